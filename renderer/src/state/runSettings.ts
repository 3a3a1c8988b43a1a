// Keeps the Run view's prompt, prompt mode, sampling and max tokens across reloads (localStorage),
// restoring them through the run store's actions.
import { defaultSampling, useRunStore, type SamplingDraft } from "./runStore";

const SETTINGS_KEY = "tiller.runSettings";

interface SavedSettings {
    prompt?: string;
    promptMode?: "plain" | "chat";
    sampling?: Partial<SamplingDraft>;
    maxTokens?: number;
}

function readSettings(): SavedSettings {
    try {
        const value: unknown = JSON.parse(localStorage.getItem(SETTINGS_KEY) ?? "{}");
        return value != null && typeof value === "object" ? value as SavedSettings : {};
    } catch {
        return {};
    }
}

let started = false;

/** Restores the saved settings, then saves them whenever they change (called once at start-up). */
export function keepRunSettings(): void {
    if (started)
        return;
    started = true;
    const saved = readSettings();
    const store = useRunStore.getState();
    if (typeof saved.prompt === "string")
        store.setPrompt(saved.prompt);
    if (saved.promptMode === "plain" || saved.promptMode === "chat")
        store.setPromptMode(saved.promptMode);
    if (saved.sampling != null && typeof saved.sampling === "object")
        store.setSampling({ ...defaultSampling, ...saved.sampling });
    if (typeof saved.maxTokens === "number")
        store.setMaxTokens(saved.maxTokens);
    useRunStore.subscribe((state, previous) => {
        if (state.prompt === previous.prompt && state.promptMode === previous.promptMode && state.sampling === previous.sampling && state.maxTokens === previous.maxTokens)
            return;
        try {
            const settings: SavedSettings = { prompt: state.prompt, promptMode: state.promptMode, sampling: state.sampling, maxTokens: state.maxTokens };
            localStorage.setItem(SETTINGS_KEY, JSON.stringify(settings));
        } catch {
            // not kept
        }
    });
}
