// The token strip: prompt and generated tokens in a monospace flow, each generated token coloured by
// the projection (cosine) of the colour-by vector at the chosen layer, with a marker where a patch
// change took effect. Long runs are virtualised: tokens are packed into rows of the strip's width
// (incrementally, so earlier rows keep their identity), and only visible rows are mounted.
// The container subscribes to ids and the colouring; each row subscribes to its own tokens, patch
// markers and trigger marks (STYLE.md), so a new batch or a trigger re-renders only the rows it touches.
import { memo, useEffect, useLayoutEffect, useMemo, useRef, useState, type MouseEvent } from "react";
import { useVirtualizer } from "@tanstack/react-virtual";
import { divergingColour, neutralTokenColour } from "../../lib/colourScale";
import { stripMetrics, stripReadout, type StripMetric } from "../../lib/stripMetric";
import { visiblePiece } from "../../lib/format";
import type { TokenInfo } from "../../../../engine/protocol/EngineContract";
import { projectionOf, selectScale, useRunStore, type PatchMarker, type TriggerMark } from "../../state/runStore";
import { noteTokenMounted } from "../../state/tokenLatency";

const ROW_HEIGHT = 30;
/** horizontal padding + gap of a token span, in px (see .tok in styles.css) */
const TOKEN_CHROME = 8;

/** Row items: generated token index ≥ 0, prompt token i as −1 − i. */
type Row = number[];

interface Layout {
    width: number;
    charWidth: number;
    promptKey: unknown;
    rows: Row[];
    lastRowWidth: number;
    /** generated tokens laid out so far */
    laidOut: number;
    /** the last item ended a line */
    lineEnded: boolean;
}

function textColumns(text: string): number {
    let columns = 0;
    for (const char of text) {
        const code = char.codePointAt(0)!;
        columns += code >= 0x1100 && (code <= 0x115f || (code >= 0x2e80 && code <= 0xa4cf) || (code >= 0xac00 && code <= 0xd7a3)
            || (code >= 0xf900 && code <= 0xfaff) || (code >= 0xfe30 && code <= 0xfe4f) || (code >= 0xff00 && code <= 0xff60)
            || (code >= 0x1f300 && code <= 0x1faff) || (code >= 0x20000 && code <= 0x3fffd)) ? 2 : 1;
    }
    return columns;
}

function place(layout: Layout, item: number, piece: string): void {
    const width = Math.max(1, textColumns(visiblePiece(piece))) * layout.charWidth + TOKEN_CHROME;
    let last = layout.rows[layout.rows.length - 1];
    if (last == null || layout.lineEnded || (layout.lastRowWidth + width > layout.width && last.length > 0)) {
        last = [];
        layout.rows.push(last);
        layout.lastRowWidth = 0;
    } else {
        // a new array for the row that changes: memoised rows before it keep their identity
        last = [...last];
        layout.rows[layout.rows.length - 1] = last;
    }
    last.push(item);
    layout.lastRowWidth += width;
    layout.lineEnded = piece.includes("\n");
}

/**
 * Whether the strip keeps following the end of the run after a scroll event: reaching the bottom
 * resumes following; moving up while the viewport kept its height stops it (the user scrolled).
 * A viewport that shrank (the inspector opened below it) is a layout change, not the user.
 */
function followAfterScroll(el: HTMLElement, following: boolean, last: { top: number; clientHeight: number }): boolean {
    if (el.scrollTop + el.clientHeight >= el.scrollHeight - ROW_HEIGHT * 1.5)
        return true;
    if (el.scrollTop < last.top && el.clientHeight === last.clientHeight)
        return false;
    return following;
}

export function TokenStrip() {
    const tokenIds = useRunStore((s) => s.tokenIds);
    const promptTokens = useRunStore((s) => s.promptTokens);
    const status = useRunStore((s) => s.status);
    const colourBy = useRunStore((s) => s.colourBy);
    const layer = useRunStore((s) => s.colourLayer);
    const metric = useRunStore((s) => s.colourMetric);
    const scale = useRunStore(selectScale);
    const paint = useMemo<StripPaint>(() => ({ colourBy, layer, metric, scale, promptTokens }), [colourBy, layer, metric, scale, promptTokens]);
    const scrollRef = useRef<HTMLDivElement>(null);
    const measureRef = useRef<HTMLSpanElement>(null);
    const [box, setBox] = useState({ width: 0, charWidth: 7.8 });
    const layoutRef = useRef<Layout | null>(null);
    const followRef = useRef(true);
    const lastScrollRef = useRef({ top: 0, clientHeight: 0 });

    useLayoutEffect(() => {
        const element = scrollRef.current;
        if (element == null)
            return;
        const measure = (): void => {
            const charWidth = (measureRef.current?.getBoundingClientRect().width ?? 78) / 10;
            const width = Math.max(80, element.clientWidth - 24);
            setBox((current) => (current.width === width && current.charWidth === charWidth ? current : { width, charWidth }));
        };
        measure();
        const observer = new ResizeObserver(measure);
        observer.observe(element);
        return () => observer.disconnect();
    }, []);

    const rows = useMemo(() => {
        const tokens = useRunStore.getState().tokens;
        let layout = layoutRef.current;
        if (layout == null || layout.width !== box.width || layout.charWidth !== box.charWidth || layout.promptKey !== promptTokens || tokenIds.length < layout.laidOut) {
            layout = { width: box.width, charWidth: box.charWidth, promptKey: promptTokens, rows: [], lastRowWidth: 0, laidOut: 0, lineEnded: false };
            promptTokens.forEach((token, i) => {
                if (token.piece !== "")
                    place(layout!, -1 - i, token.piece);
            });
            if (promptTokens.length > 0)
                layout.lineEnded = false;
        } else {
            layout = { ...layout, rows: [...layout.rows] };
        }
        for (let i = layout.laidOut; i < tokenIds.length; i++) {
            const index = tokenIds[i]!;
            place(layout, index, tokens[index]?.piece ?? "");
        }
        layout.laidOut = tokenIds.length;
        layoutRef.current = layout;
        return layout.rows;
    }, [tokenIds, promptTokens, box]);

    const virtualizer = useVirtualizer({
        count: rows.length,
        getScrollElement: () => scrollRef.current,
        estimateSize: () => ROW_HEIGHT,
        overscan: 8,
        useFlushSync: false
    });

    // follow the end of the run while the user has not scrolled up: one direct write (the browser
    // clamps it to the end), not the virtualizer's scrollToIndex, which re-measures and re-checks
    // the scroll over the next frames, forcing a layout each time, at the token rate
    useLayoutEffect(() => {
        const element = scrollRef.current;
        if (element != null && followRef.current && rows.length > 0 && status !== "idle")
            element.scrollTop = element.scrollHeight;
    }, [rows.length, status]);

    // bring the selected token into view (inspector ‹ ›, patch-change chips)
    const selected = useRunStore((s) => s.selected);
    useEffect(() => {
        if (selected == null)
            return;
        const row = rows.findIndex((items) => items.includes(selected));
        if (row >= 0) {
            const range = virtualizer.range;
            if (range == null || row < range.startIndex || row > range.endIndex) {
                followRef.current = false;
                virtualizer.scrollToIndex(row, { align: "center" });
            }
        }
        // only a new selection scrolls; new rows streaming in must not pull the view back to it
        // eslint-disable-next-line react-hooks/exhaustive-deps
    }, [selected]);

    const onClick = (event: MouseEvent<HTMLDivElement>): void => {
        const target = (event.target as HTMLElement).closest<HTMLElement>("[data-testid='token']");
        const index = target?.dataset.index;
        if (index != null)
            useRunStore.getState().select(Number(index));
    };

    const empty = promptTokens.length === 0 && tokenIds.length === 0;
    return (
        <div className="strip" data-testid="token-strip" data-count={tokenIds.length} data-status={status}>
            <span className="strip-measure mono" ref={measureRef} aria-hidden="true">MMMMMMMMMM</span>
            <div className="strip-scroll mono" ref={scrollRef} onClick={onClick} onScroll={(event) => {
                followRef.current = followAfterScroll(event.currentTarget, followRef.current, lastScrollRef.current);
                const el = event.currentTarget;
                lastScrollRef.current = { top: el.scrollTop, clientHeight: el.clientHeight };
            }}>
                {empty
                    ? <div className="strip-empty muted">{status === "idle" ? "Generated tokens appear here, coloured by how strongly the chosen vector lights up." : "Starting…"}</div>
                    : (
                        <div style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
                            {virtualizer.getVirtualItems().map((item) => (
                                <div key={item.key} className="strip-row" style={{ transform: `translateY(${item.start}px)`, height: ROW_HEIGHT }}>
                                    <StripRow items={rows[item.index]!} paint={paint} selected={selected != null && rows[item.index]!.includes(selected) ? selected : null} />
                                </div>
                            ))}
                        </div>
                    )}
            </div>
        </div>
    );
}

/** What colours the strip; one object so rows re-render together when it changes (rarely). */
interface StripPaint {
    colourBy: string | null;
    layer: number | null;
    metric: StripMetric;
    scale: number;
    promptTokens: readonly { id: number; piece: string }[];
}

/**
 * A row subscribes once, to its own tokens (tokens never change once streamed), so a new batch of
 * tokens costs one selector call per mounted row, not several per mounted token.
 */
const StripRow = memo(function StripRow(props: { items: Row; paint: StripPaint; selected: number | null }) {
    const { items, paint, selected } = props;
    const { tokens, markers, triggers } = useRunStore(useRowEntries(items));
    return <>{items.map((item, i) => {
        if (item < 0) {
            const piece = paint.promptTokens[-1 - item]?.piece ?? "";
            return piece === "" ? null : <span key={item} className="tok prompt" data-testid="prompt-token">{visiblePiece(piece)}</span>;
        }
        const token = tokens[i];
        return token == null ? null : <Token key={item} token={token} paint={paint} selected={selected === item} marker={markers[i]} triggers={triggers[i]} />;
    })}</>;
});

interface RowEntries {
    tokens: (TokenInfo | undefined)[];
    markers: (PatchMarker | undefined)[];
    triggers: (TriggerMark[] | undefined)[];
}

type RunSlices = Pick<ReturnType<typeof useRunStore.getState>, "tokens" | "markers" | "triggers">;

/**
 * One selector for a row's tokens, patch markers and trigger marks, returning the previous object
 * while none of them changed. It runs for every mounted row on every store update (once a frame
 * while a run streams), so it compares element by element instead of zustand's generic `shallow`,
 * which builds two Maps per array.
 */
function useRowEntries(items: Row): (state: RunSlices) => RowEntries {
    const last = useRef<{ items: Row; source: RunSlices | null; entries: RowEntries } | null>(null);
    return (state) => {
        const previous = last.current;
        if (previous != null && previous.items === items && previous.source != null && previous.source.tokens === state.tokens
            && previous.source.markers === state.markers && previous.source.triggers === state.triggers)
            return previous.entries;
        const entries: RowEntries = {
            tokens: items.map((item) => (item < 0 ? undefined : state.tokens[item])),
            markers: items.map((item) => (item < 0 ? undefined : state.markers[item])),
            triggers: items.map((item) => (item < 0 ? undefined : state.triggers[item]))
        };
        const same = previous != null && sameElements(previous.entries.tokens, entries.tokens)
            && sameElements(previous.entries.markers, entries.markers) && sameElements(previous.entries.triggers, entries.triggers);
        last.current = { items, source: { tokens: state.tokens, markers: state.markers, triggers: state.triggers }, entries: same ? previous.entries : entries };
        return last.current.entries;
    };
}

function sameElements<T>(a: readonly T[], b: readonly T[]): boolean {
    if (a.length !== b.length)
        return false;
    for (let i = 0; i < a.length; i++) {
        if (a[i] !== b[i])
            return false;
    }
    return true;
}

const Token = memo(function Token(props: { token: TokenInfo; paint: StripPaint; selected: boolean; marker: PatchMarker | undefined; triggers: TriggerMark[] | undefined }) {
    const { token, paint, selected, marker, triggers } = props;
    useLayoutEffect(() => noteTokenMounted(token.index), [token.index]);
    const projection = projectionOf(token, paint.colourBy, paint.layer);
    const readout = stripReadout(token, paint.metric);
    const readoutScale = stripMetrics.find((entry) => entry.value === paint.metric)?.scale ?? 1;
    const background = paint.metric !== "projection" ? (readout != null ? divergingColour(readout, readoutScale) : neutralTokenColour)
        : projection != null ? divergingColour(projection.cosine, paint.scale) : neutralTokenColour;
    const steered = token.activePatches.length > 0;
    const title = `#${token.index} ${JSON.stringify(token.piece)}  p=${Math.exp(token.logprob).toFixed(3)}`
        + (projection != null ? `  cos=${projection.cosine.toFixed(3)} (L${projection.layer})` : "");
    return (
        <span className={`tok ${selected ? "selected" : ""} ${steered ? "steered" : ""}`} data-testid="token" data-index={token.index}
            data-projection={projection?.cosine} data-readout={readout ?? undefined} data-steered={steered || undefined} style={{ background }} title={title}>
            {marker != null && (
                <span className="patch-marker" data-testid="patch-marker" data-at={marker.atToken}
                    title={`patches from token ${marker.atToken}:\n${marker.patches.length > 0 ? marker.patches.join("\n") : "none (steering off)"}`} />
            )}
            {triggers?.map((mark) => (
                <span key={`${mark.patchId}-${mark.kind}-${mark.atToken}`} className={`trigger-marker ${mark.kind}`} data-testid="trigger-marker" data-kind={mark.kind}
                    data-at={mark.atToken} data-patch={mark.patchId}
                    title={`${mark.label}\n${mark.kind} from token ${mark.atToken}${mark.afterLastToken === true ? ", after the run's last token" : ""} (fired by token ${mark.triggerToken}${mark.value != null ? `, value ${mark.value.toFixed(3)}` : ""})`} />
            ))}
            {visiblePiece(token.piece)}
        </span>
    );
});
