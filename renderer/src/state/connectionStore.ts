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
