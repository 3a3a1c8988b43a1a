// The transport's state and what the engine says about itself.
import { create } from "zustand";
import type { EngineInfo } from "../../../engine/protocol/EngineContract";
import type { EngineConnectionState } from "../engineClient/EngineClientCore";

interface ConnectionState {
    state: EngineConnectionState;
    /** true once the first connection succeeded (a later "disconnected" means the engine went away) */
    everConnected: boolean;
    info: EngineInfo | null;
}

export const useConnectionStore = create<ConnectionState>()(() => ({
    state: "connecting",
    everConnected: false,
    info: null
}));

// ---- actions (other modules change this store only through these) ---------------------------

/** The transport moved to `state`. */
export function connectionStateChanged(state: EngineConnectionState): void {
    useConnectionStore.setState((current) => ({ state, everConnected: current.everConnected || state === "connected" }));
}

/** The engine described itself (`engine.info`). */
export function engineInfoReceived(info: EngineInfo): void {
    useConnectionStore.setState({ info });
}

/** The engine's loaded model changed: the engine info says so too. */
export function engineModelChanged(model: EngineInfo["model"]): void {
    const info = useConnectionStore.getState().info;
    if (info != null)
        useConnectionStore.setState({ info: { ...info, model } });
}
