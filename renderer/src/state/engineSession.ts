// Wires the engine client to the stores: connection state, engine info, model changes, and the
// run events (queued per frame by runEventRouter). On every (re)connection the stores refresh
// what the engine knows (engine info, datasets, vector library).
import { TillerError } from "../../../engine/protocol/TillerError";
import { getEngineClient } from "../engineClient/getEngineClient";
import { connectionStateChanged, engineInfoReceived, engineModelChanged } from "./connectionStore";
import { loadModel, modelChanged, useModelStore } from "./modelStore";
import { reportError } from "./notificationStore";
import { runEventRouter } from "./runEventRouter";
import { abandonCompare } from "./compareStore";
import { abandonRun } from "./runControl";
import { useUiStore } from "./uiStore";
import { refreshDatasets, refreshVectors } from "./vectorStore";

let started = false;

export function startEngineSession(): void {
    if (started)
        return;
    started = true;
    const client = getEngineClient();

    client.on("run.token", (data) => runEventRouter.push({ type: "token", data, receivedAt: performance.now() }));
    client.on("run.patchChange", (data) => runEventRouter.push({ type: "patchChange", data }));
    client.on("run.trigger", (data) => runEventRouter.push({ type: "trigger", data }));
    client.on("run.end", (data) => runEventRouter.push({ type: "end", data }));
    client.on("engine.restarted", ({ reason }) => {
        reportError(new TillerError("ENGINE_RESTARTED", `the engine stopped unexpectedly (${reason}) and was restarted`), "The engine restarted");
    });
    client.on("model.changed", ({ model }) => {
        modelChanged(model);
        engineModelChanged(model);
    });

    const onState = (state: typeof client.state): void => {
        connectionStateChanged(state);
        if (state === "connected")
            void refreshAll();
        else if (state === "disconnected") {
            abandonRun();
            abandonCompare();
        }
    };
    client.onStateChange(onState);
    onState(client.state);

    // Electron: main asks to open a model (menu, dock, --model)
    window.tiller?.onOpenModel?.((path) => {
        useModelStore.getState().setForm({ path });
        useUiStore.getState().setView("model");
        void loadModel();
    });
}

async function refreshAll(): Promise<void> {
    try {
        const info = await getEngineClient().request("engine.info", {});
        engineInfoReceived(info);
        modelChanged(info.model);
    } catch (error) {
        reportError(error, "Could not reach the engine");
    }
    await Promise.all([refreshDatasets(), refreshVectors()]);
}
