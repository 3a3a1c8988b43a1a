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
    "vectors.export": z.object({ id: z.string().min(1), path: z.string().min(1), format: z.enum(["gguf", "npy"]) }),
    "vectors.rename": z.object({ id: z.string().min(1), name: z.string().min(1) }),
    "vectors.delete": z.object({ id: z.string().min(1) }),
    "vectors.combine": z.object({
        terms: z.array(z.object({ id: z.string().min(1), weight: z.number().refine(Number.isFinite) })).min(1),
        name: z.string().min(1)
    })
} as const;

// ---- results ------------------------------------------------------------------------------------

export interface VectorInfo {
    id: string;
    name: string;
    nEmbd: number;
    modelHint: string;
    layers: number[];
    norms: Record<number, number>;
    metadata: { sourceDataset?: string; method?: string; readAt?: string; modelSha256?: string; createdAt: string; derivedFrom?: string; notes?: string };
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
    "vectors.build": { vector: VectorInfo; diagnostics: LayerDiagnosticsInfo[]; bestLayer: number; elapsedMs: number };
    "vectors.import": VectorInfo;
    "vectors.export": null;
    "vectors.rename": VectorInfo;
    "vectors.delete": null;
    "vectors.combine": VectorInfo;
}
