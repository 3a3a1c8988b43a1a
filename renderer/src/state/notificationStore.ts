// Errors and notices shown as toasts: `{code, message}` plus what to do about it.
import { create } from "zustand";
import { TillerError, tillerErrorCodes, type TillerErrorCode } from "../../../engine/protocol/TillerError";
import { TRANSPORT_LOST } from "../engineClient/EngineClientCore";
import { errorHint } from "../lib/errorHints";

export interface Notification {
    id: number;
    kind: "error" | "info";
    code?: TillerErrorCode;
    title: string;
    message: string;
    hint?: string;
}

interface NotificationState {
    notifications: Notification[];
    push(notification: Omit<Notification, "id">): void;
    dismiss(id: number): void;
}

let nextId = 1;

export const useNotificationStore = create<NotificationState>()((set) => ({
    notifications: [],
    push: (notification) => {
        const id = nextId++;
        set((state) => ({ notifications: [...state.notifications.slice(-4), { ...notification, id }] }));
        if (notification.kind === "info")
            setTimeout(() => useNotificationStore.getState().dismiss(id), 4000);
    },
    dismiss: (id) => set((state) => ({ notifications: state.notifications.filter((item) => item.id !== id) }))
}));

/** Shows an error from a request; cancellations are not errors and stay silent. */
export function reportError(error: unknown, action: string): void {
    if (error instanceof TillerError && error.cause === TRANSPORT_LOST)
        return; // the connection banner says so
    const { code, message } = errorPayloadOf(error);
    if (code === "ABORTED")
        return;
    useNotificationStore.getState().push({ kind: "error", code, title: action, message, hint: errorHint(code) });
}

export function notify(title: string, message = ""): void {
    useNotificationStore.getState().push({ kind: "info", title, message });
}

export function errorPayloadOf(error: unknown): { code: TillerErrorCode; message: string } {
    if (error instanceof TillerError)
        return { code: error.code, message: error.message };
    if (error != null && typeof error === "object") {
        const { code, message } = error as { code?: unknown; message?: unknown };
        const known = typeof code === "string" && (tillerErrorCodes as readonly string[]).includes(code);
        return { code: known ? code as TillerErrorCode : "INTERNAL", message: typeof message === "string" ? message : String(error) };
    }
    return { code: "INTERNAL", message: String(error) };
}
