// Projection read-out: p_l(t) = ⟨h_l(t), v̂_l⟩ and cos(h_l(t), v_l), from captured block outputs.
// Costs O(probes × layers × nEmbd) per token; full activations never leave this function.
import type { TokenProjectionInfo } from "../protocol/shapes.js";
import { TillerError } from "../protocol/TillerError.js";
import { assertReadableLayer } from "./layers.js";
import { vectorNorm, type SteeringVector } from "./SteeringVector.js";
import type { CapturedLayers } from "./TillerContext.js";
import { toSigmaUnits, type LayerCalibration } from "./vectorCalibration.js";

export interface ProjectionProbe {
    /** how the read-out is labelled; defaults to the vector's name */
    name?: string;
    vector: SteeringVector;
    /** blocks to read (llama.cpp numbering); default: every block the vector has a direction for */
    layers?: readonly number[];
}

interface ResolvedProbe {
    name: string;
    layer: number;
    unit: Float32Array;
    calibration?: LayerCalibration;
}

export class ProjectionReader {
    private readonly resolved: ResolvedProbe[] = [];
    public readonly layers: readonly number[];

    public constructor(probes: readonly ProjectionProbe[], shape: { nLayer: number; nEmbd: number }) {
        const names = new Set<string>();
        for (const probe of probes) {
            const name = probe.name ?? probe.vector.name;
            if (names.has(name))
                throw new TillerError("INVALID_ARGUMENT", `two probes are named "${name}"; give each a distinct name`);
            names.add(name);
            if (probe.vector.nEmbd !== shape.nEmbd)
                throw new TillerError("VECTOR_MISMATCH",
                    `probe vector "${probe.vector.name}" has width ${probe.vector.nEmbd} but the model's embedding width is ${shape.nEmbd}`);
            const layers = probe.layers ?? [...probe.vector.directions.keys()].sort((a, b) => a - b);
            for (const layer of layers) {
                assertReadableLayer(layer, shape.nLayer);
                const direction = probe.vector.directions.get(layer);
                if (direction == null)
                    throw new TillerError("INVALID_LAYER_RANGE", `probe vector "${probe.vector.name}" has no direction for layer ${layer}`);
                const norm = vectorNorm(direction);
                const unit = new Float32Array(direction.length);
                if (norm > 0) {
                    for (let i = 0; i < unit.length; i++)
                        unit[i] = direction[i]! / norm;
                }
                const calibration = probe.vector.calibration?.get(layer);
                this.resolved.push({ name, layer, unit, ...(calibration != null ? { calibration } : {}) });
            }
        }
        this.layers = [...new Set(this.resolved.map((probe) => probe.layer))].sort((a, b) => a - b);
    }

    public get empty(): boolean {
        return this.resolved.length === 0;
    }

    /** Projections of row `row` of the captured outputs (layers missing from the capture are skipped). */
    public read(captured: CapturedLayers, row: number): TokenProjectionInfo[] {
        const out: TokenProjectionInfo[] = [];
        for (const probe of this.resolved) {
            const layer = captured.get(probe.layer);
            if (layer == null || row >= layer.rows)
                continue;
            const offset = row * probe.unit.length;
            let dotSum = 0;
            let normSum = 0;
            for (let i = 0; i < probe.unit.length; i++) {
                const h = layer.data[offset + i]!;
                dotSum += h * probe.unit[i]!;
                normSum += h * h;
            }
            const projection: TokenProjectionInfo = { probe: probe.name, layer: probe.layer, dot: dotSum, cosine: normSum > 0 ? dotSum / Math.sqrt(normSum) : 0 };
            if (probe.calibration != null)
                projection.sigma = toSigmaUnits(dotSum, probe.calibration);
            out.push(projection);
        }
        return out;
    }
}
