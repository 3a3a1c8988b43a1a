import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { startEngineSession } from "./state/engineSession";
import "./styles.css";

startEngineSession();
createRoot(document.getElementById("root")!).render(<StrictMode><App /></StrictMode>);
