// The contract's vector-library and dataset requests: build, import, export, rename, delete and
// combine steering vectors. Pure TypeScript + zod.
import { z } from "zod";
import { layerRangeSchema, type LayerDiagnosticsInfo } from "./shapes.js";

export const vectorRequestSchemas = {
    "datasets.list": z.object({}),
    "vectors.list": z.object({}),
    "vectors.build": z.object({
        dataset: z.string().min(1),
        method: z.enum(["mean", "pca-diff", "pca-center"]).optional(),
        readAt: z.enum(["last", "mean", "answer"]).optional(),
        layers: layerRangeSchema.optional(),
        name: z.string().min(1).optional()
    }),
    "vectors.import": z.object({ path: z.string().min(1) }),
    "vectors.export": z.object({ id: z.string().min(1), path: z.string().min(1), format: z.enum(["gguf", "npy"]), overwrite: z.boolean().optional() }),
    "vectors.rename": z.object({ id: z.string().min(1), name: z.string().min(1) }),
    "vectors.delete": z.object({ id: z.string().min(1) }),
    "vectors.combine": z.object({
        terms: z.array(z.object({ id: z.string().min(1), weight: z.number().refine(Number.isFinite) })).min(1).max(64),
        name: z.string().min(1)
    })
} as const;

// ---- results ------------------------------------------------------------------------------------

/** Provenance of a vector, stored as `tiller.*` keys of its file. */
export interface VectorMetadataInfo {
    /** the contrastive-pair dataset it was built from */
    sourceDataset?: string;
    /** build method, e.g. "mean" */
    method?: string;
    /** read position, e.g. "last" */
    readAt?: string;
    /** lower-case hex SHA-256 of the model file (see engine/io/sha256File.ts) */
    modelSha256?: string;
    /** ISO 8601 */
    createdAt: string;
    /** how a derived vector was made from others, by id, e.g. "negate(3f9c0a1b2c3d4e5f)" */
    derivedFrom?: string;
    notes?: string;
}

/** One vector of the library, without its directions. */
export interface VectorInfo {
    /** stable: the file name without `.gguf` (random hex for vectors the library creates) */
    id: string;
    name: string;
    nEmbd: number;
    /** `controlvector.model_hint`: the architecture it was made for; "" when unknown */
    modelHint: string;
    /** layers with a direction, ascending (llama.cpp numbering: direction N is added to block N's output) */
    layers: number[];
    /** layer → ‖direction‖ */
    norms: Record<number, number>;
    metadata: VectorMetadataInfo;
}

export interface DatasetInfo {
    name: string;
    description: string;
    framing: "story" | "chat" | "plain";
    pairCount: number;
}

export interface VectorResults {
    "datasets.list": DatasetInfo[];
    "vectors.list": { vectors: VectorInfo[]; problems: { file: string; message: string }[] };
    "vectors.build": { vector: VectorInfo; diagnostics: LayerDiagnosticsInfo[]; bestLayer: number; elapsedMs: number; /** e.g. a PCA direction nearly orthogonal to the mean difference */ warnings?: string[] };
    "vectors.import": VectorInfo;
    "vectors.export": null;
    "vectors.rename": VectorInfo;
    "vectors.delete": null;
    "vectors.combine": VectorInfo;
}
