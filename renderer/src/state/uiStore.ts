// Which view is shown. The view is mirrored in the URL hash so a reload keeps it.
import { create } from "zustand";

export const views = ["start", "model", "vectors", "run", "compare", "probes", "sessions"] as const;
export type View = typeof views[number];

function viewFromHash(): View {
    const hash = typeof location !== "undefined" ? location.hash.replace(/^#\/?/, "") : "";
    return (views as readonly string[]).includes(hash) ? hash as View : "start";
}

interface UiState {
    view: View;
    setView(view: View): void;
}

export const useUiStore = create<UiState>()((set) => ({
    view: viewFromHash(),
    setView: (view) => {
        set({ view });
        if (typeof history !== "undefined")
            history.replaceState(null, "", `${location.pathname}${location.search}#${view}`);
    }
}));
