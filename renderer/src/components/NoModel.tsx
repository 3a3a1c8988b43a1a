// The empty state of views that need a loaded model.
import { useUiStore } from "../state/uiStore";
import { ModelIcon } from "./icons";
import { EmptyState } from "./ui";

export function NoModel(props: { what: string }) {
    const setView = useUiStore((state) => state.setView);
    return (
        <EmptyState testId="no-model" icon={<ModelIcon size={36} />} title="No model loaded"
            action={<button type="button" className="button primary" onClick={() => setView("model")}>Open a model</button>}>
            Load a GGUF model to {props.what}.
        </EmptyState>
    );
}
