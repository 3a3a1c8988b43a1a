// PNG and CSV buttons of one plot: the PNG is the plot's SVG found inside `target`, the CSV the
// rows `csv()` builds from the data behind the plot (not from the drawing).
import type { RefObject } from "react";
import { downloadCsv, exportContainerPng } from "../../lib/exportPlot";
import { reportError } from "../../state/notificationStore";

export function PlotExport(props: { target: RefObject<HTMLElement | null>; baseName: string; csv(): string; testId: string }) {
    const png = async (): Promise<void> => {
        try {
            await exportContainerPng(props.target.current, `${props.baseName}.png`);
        } catch (error) {
            reportError(error, "Could not export the plot");
        }
    };
    return (
        <div className="plot-export">
            <button type="button" className="button small" data-testid={`${props.testId}-png`} onClick={() => void png()}>PNG</button>
            <button type="button" className="button small" data-testid={`${props.testId}-csv`} onClick={() => downloadCsv(props.csv(), `${props.baseName}.csv`)}>CSV</button>
        </div>
    );
}
