import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { startEngineSession } from "./state/engineSession";
import { startLivePatchEdits } from "./state/runControl";
import { keepRunSettings } from "./state/runSettings";
import "./styles.css";

keepRunSettings();
startLivePatchEdits();
startEngineSession();
createRoot(document.getElementById("root")!).render(<StrictMode><App /></StrictMode>);
