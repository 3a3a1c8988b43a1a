// A chart with its title and PNG/CSV export: the card the Probes pages draw their plots in. The
// chart body is what the PNG captures; pass `plotRef` to let another card's export capture it too.
import { useRef, type ReactNode, type RefObject } from "react";
import { PlotExport } from "./PlotExport";

export function ChartCard(props: {
    title: ReactNode;
    testId?: string;
    /** the plotted series as JSON, for tests and for reading the figure exactly */
    values?: string;
    exportAs: { baseName: string; csv(): string; testId: string };
    plotRef?: RefObject<HTMLDivElement | null>;
    children: ReactNode;
}) {
    const ownRef = useRef<HTMLDivElement>(null);
    const plot = props.plotRef ?? ownRef;
    return (
        <div className="chart-card" data-testid={props.testId} data-values={props.values}>
            <div className="chart-head">
                <div className="chart-title">{props.title}</div>
                <PlotExport target={plot} baseName={props.exportAs.baseName} csv={props.exportAs.csv} testId={props.exportAs.testId} />
            </div>
            <div className="chart-body" ref={plot}>{props.children}</div>
        </div>
    );
}
