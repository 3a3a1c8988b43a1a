// A recorded run's tokens as a read-only strip: each token coloured by the cosine of its recorded
// read-out (the chosen probe at the chosen layer) on the diverging scale of the live strip, with a
// mark where the patch set changed and, after a replay that diverged, a mark on the first token that
// differs. Nothing here streams: the whole run is known, so it renders once per choice.
import { memo, useMemo } from "react";
import type { TokenInfo } from "../../../../engine/protocol/EngineContract";
import type { SessionRunInfo } from "../../../../engine/protocol/sessions";
import { autoScale, divergingColour, legendGradient, neutralTokenColour } from "../../lib/colourScale";
import { visiblePiece } from "../../lib/format";
import { maxAbsCosine, projectionOf } from "../../state/runStore";

export interface StripReadout {
    probe: string;
    layer: number;
}

/** The probe/layer pairs a run recorded, in the order of its first token's read-outs. */
export function readoutsOf(tokens: readonly TokenInfo[]): StripReadout[] {
    return tokens[0]?.projections.map((projection) => ({ probe: projection.probe, layer: projection.layer })) ?? [];
}

function cosineOf(token: TokenInfo, readout: StripReadout | null): number | null {
    return projectionOf(token, readout?.probe ?? null, readout?.layer ?? null)?.cosine ?? null;
}

export const RecordedStrip = memo(function RecordedStrip(props: {
    tokens: readonly TokenInfo[];
    readout: StripReadout | null;
    /** what to call the read-out's vector */
    readoutLabel?: string | null;
    /** generated-token indices where the patch set changed */
    changesAt: readonly number[];
    /** the first token a replay produced differently */
    divergenceAt?: number | null;
    /** conditional patches engaging/releasing (SessionRunInfo.triggers) */
    triggers?: SessionRunInfo["triggers"];
    testId?: string;
}) {
    const { tokens, readout, changesAt, divergenceAt } = props;
    const scale = useMemo(() => autoScale(maxAbsCosine(tokens, readout?.probe ?? null, readout?.layer ?? null)), [tokens, readout]);
    const changes = useMemo(() => new Set(changesAt), [changesAt]);
    const triggersAt = useMemo(() => {
        const byToken = new Map<number, SessionRunInfo["triggers"]>();
        for (const event of props.triggers ?? [])
            byToken.set(event.atToken, [...(byToken.get(event.atToken) ?? []), event]);
        return byToken;
    }, [props.triggers]);
    return (
        <div className="recorded-strip-wrap">
            <div className="recorded-strip mono" data-testid={props.testId} data-tokens={tokens.length}>
                {tokens.map((token) => {
                    const cosine = cosineOf(token, readout);
                    const title = `#${token.index} ${JSON.stringify(token.piece)}  id=${token.id}  logp=${token.logprob.toFixed(3)}`
                        + (cosine != null ? `  cos=${cosine.toFixed(3)} (${props.readoutLabel ?? readout!.probe} L${readout!.layer})` : "")
                        + (token.activePatches.length > 0 ? `  patches: ${token.activePatches.join(", ")}` : "");
                    const classes = ["recorded-token"];
                    if (changes.has(token.index))
                        classes.push("change");
                    if (token.activePatches.length > 0)
                        classes.push("steered");
                    if (divergenceAt === token.index)
                        classes.push("diverged");
                    return (
                        <span key={token.index} className={classes.join(" ")} title={title} data-index={token.index}
                            data-cosine={cosine ?? undefined} style={{ background: cosine != null ? divergingColour(cosine, scale) : neutralTokenColour }}>
                            {triggersAt.get(token.index)?.map((event) => (
                                <span key={`${event.patchId}-${event.kind}`} className={`trigger-marker ${event.kind}`} data-testid="recorded-trigger" data-kind={event.kind}
                                    title={`${event.patchId} ${event.kind} from token ${event.atToken} (fired by token ${event.triggerToken})`} />
                            ))}
                            {visiblePiece(token.piece)}
                        </span>
                    );
                })}
            </div>
            {readout != null && (
                <div className="recorded-legend small muted">
                    <span>−{scale}</span>
                    <span className="recorded-legend-bar" style={{ background: legendGradient() }} />
                    <span>+{scale}</span>
                    <span>cosine with {props.readoutLabel ?? readout.probe} at layer {readout.layer}</span>
                </div>
            )}
        </div>
    );
});
