// Does steering reach this model's graph, and can every block's output be captured? llama.cpp
// applies control vectors and names the block output `l_out` per architecture, and some graphs do
// neither (plamo2, the encoder-only families): steering them would silently do nothing. So when a
// model loads, one tiny context decodes one token twice — captured and unsteered, then with a
// vector on every steerable block — and compares. Two 1-token decodes: milliseconds on any model.
import type { SteeringSupportInfo } from "../protocol/steeringSupport.js";
import type { ModelShapeInfo } from "../protocol/models.js";
import { controlVectorBufferLength } from "./layers.js";
import type { TillerContext } from "./TillerContext.js";

/** What the probe needs of a model: its shape and a tiny precise context (TillerModel supplies both). */
export interface SteeringProbeTarget {
    shape: Pick<ModelShapeInfo, "architecture" | "nLayer" | "nEmbd"> & { bos: number };
    openProbeContext(): Promise<TillerContext>;
}

/** How much larger than the residual stream the probe vector is: any graph that adds it must move the logits. */
const PROBE_SCALE = 4;

export async function probeSteeringSupport(model: SteeringProbeTarget): Promise<SteeringSupportInfo> {
    const { nLayer, nEmbd } = model.shape;
    const context = await model.openProbeContext();
    try {
        const token = Int32Array.of(model.shape.bos >= 0 ? model.shape.bos : 0);
        const allLayers = Array.from({ length: nLayer }, (_, layer) => layer);
        await context.setCapture(allLayers);
        const captured = await context.evaluate(token, { startPosition: 0, logits: "last" });
        const baseline = context.logits(0);
        await context.setCapture([]);
        const uncapturedLayers = allLayers.filter((layer) => (captured.get(layer)?.rows ?? 0) < 1);

        let steering = false;
        if (nLayer >= 2) {
            const data = new Float32Array(controlVectorBufferLength(nLayer, nEmbd));
            for (let layer = 1; layer < nLayer; layer++) {
                const h = captured.get(layer)?.data;
                const hNorm = h != null ? Math.sqrt(h.subarray(0, nEmbd).reduce((sum, x) => sum + x * x, 0)) : Math.sqrt(nEmbd);
                // a fixed, sign-alternating direction scaled to PROBE_SCALE × |h|
                const size = PROBE_SCALE * Math.max(hNorm, 1) / Math.sqrt(nEmbd);
                for (let i = 0; i < nEmbd; i++)
                    data[(layer - 1) * nEmbd + i] = (i % 2 === 0 ? 1 : -1) * size * (1 + (i % 7) / 7);
            }
            await context.setSteering({ data, firstLayer: 1, lastLayer: nLayer - 1 }, { probe: true });
            await context.clearMemory();
            await context.evaluate(token, { startPosition: 0, logits: "last" });
            const steered = context.logits(0);
            await context.setSteering(null);
            steering = largestDifference(baseline, steered) > 1e-4 * (1 + largestMagnitude(baseline));
        }

        const architecture = model.shape.architecture;
        const problems: string[] = [];
        if (nLayer < 2)
            problems.push("a model of one block has no steerable block (block 0 cannot be steered)");
        else if (!steering)
            problems.push(`llama.cpp's graph for the "${architecture}" architecture ignores control vectors, so steering would have no effect`);
        if (uncapturedLayers.length > 0)
            problems.push(`its graph does not expose the block output (l_out) of ${uncapturedLayers.length === nLayer ? "any block" : `blocks ${uncapturedLayers.join(", ")}`}, so activations cannot be read`);
        return {
            steering,
            capture: uncapturedLayers.length === 0,
            uncapturedLayers,
            message: problems.length === 0 ? null : `This model does not support ${!steering && uncapturedLayers.length > 0 ? "steering or capture" : !steering ? "steering" : "capture"}: ${problems.join("; ")}.`
        };
    } finally {
        await context.dispose();
    }
}

function largestDifference(a: Float32Array, b: Float32Array): number {
    let largest = 0;
    for (let i = 0; i < a.length; i++)
        largest = Math.max(largest, Math.abs(a[i]! - b[i]!));
    return largest;
}

function largestMagnitude(values: Float32Array): number {
    let largest = 0;
    for (const value of values)
        largest = Math.max(largest, Math.abs(value));
    return largest;
}
