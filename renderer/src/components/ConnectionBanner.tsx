// "engine disconnected — reconnecting…" while the transport is down.
import { useConnectionStore } from "../state/connectionStore";
import { Spinner } from "./ui";

export function ConnectionBanner() {
    const state = useConnectionStore((s) => s.state);
    const everConnected = useConnectionStore((s) => s.everConnected);
    if (state === "connected")
        return null;
    return (
        <div className={`connection-banner ${state}`} role="status" data-testid="connection-banner">
            <Spinner small />
            {state === "disconnected" || everConnected
                ? <span><strong>Engine disconnected</strong> — reconnecting… Runs in progress were stopped; nothing else is lost.</span>
                : <span>Connecting to the engine…</span>}
        </div>
    );
}
