// Errors (`{code, message}` and what to do) and short notices, bottom right.
import { useNotificationStore } from "../state/notificationStore";
import { AlertIcon, CloseIcon } from "./icons";

export function Toasts() {
    const notifications = useNotificationStore((state) => state.notifications);
    const dismiss = useNotificationStore((state) => state.dismiss);
    return (
        <div className="toasts" aria-live="polite">
            {notifications.map((item) => (
                <div key={item.id} className={`toast ${item.kind}`} role={item.kind === "error" ? "alert" : "status"}
                    data-testid={item.kind === "error" ? "error-toast" : "info-toast"} data-code={item.code}>
                    {item.kind === "error" && <span className="toast-icon"><AlertIcon /></span>}
                    <div className="toast-body">
                        <div className="toast-title">
                            {item.title}
                            {item.code != null && <code className="toast-code">{item.code}</code>}
                        </div>
                        {item.message !== "" && <div className="toast-message">{item.message}</div>}
                        {item.hint != null && <div className="toast-hint">{item.hint}</div>}
                    </div>
                    <button type="button" className="icon-button" aria-label="Dismiss" onClick={() => dismiss(item.id)}><CloseIcon size={16} /></button>
                </div>
            ))}
        </div>
    );
}
