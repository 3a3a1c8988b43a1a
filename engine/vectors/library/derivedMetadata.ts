// What a derived vector (a sum, negation, scaling or normalisation of others) keeps of its sources'
// metadata: the one rule, used by the vector library and by `tiller vector combine/negate/scale`.
import type { ControlVector } from "../../gguf/ControlVectorFile.js";
import type { VectorMetadataInfo } from "../../protocol/vectors.js";
import type { SteeringVector } from "../../runtime/SteeringVector.js";

/** VectorMetadataInfo field → the `tiller.*` key that stores it in a control-vector file. */
export const METADATA_KEYS = {
    sourceDataset: "tiller.source_dataset",
    method: "tiller.method",
    readAt: "tiller.read_at",
    modelSha256: "tiller.model_sha256",
    createdAt: "tiller.created_at",
    derivedFrom: "tiller.derived_from",
    notes: "tiller.notes"
} as const satisfies Record<keyof VectorMetadataInfo, string>;

/** The key of a vector's display name. */
export const NAME_KEY = "tiller.name";

/** Metadata a derived vector inherits from its sources (still true of it). */
export const INHERITED_METADATA = ["sourceDataset", "method", "readAt", "modelSha256"] as const satisfies ReadonlyArray<keyof VectorMetadataInfo>;

export type InheritedMetadata = Partial<Pick<VectorMetadataInfo, (typeof INHERITED_METADATA)[number]>>;

/** The metadata fields stored in a file's `tiller.*` keys (those present). */
export function metadataFromKeys(keys: Readonly<Record<string, string>>): Partial<VectorMetadataInfo> {
    const metadata: Partial<VectorMetadataInfo> = {};
    for (const [field, key] of Object.entries(METADATA_KEYS) as Array<[keyof VectorMetadataInfo, string]>) {
        const value = keys[key];
        if (value !== undefined) metadata[field] = value;
    }
    return metadata;
}

/**
 * What a vector derived from `sources` inherits: the model hint when every source has the same one
 * (otherwise none), and each inherited field that every source has with the same value.
 */
export function inheritFromSources(sources: ReadonlyArray<{ modelHint: string; metadata: Partial<VectorMetadataInfo> }>): {
    modelHint: string | undefined;
    metadata: InheritedMetadata;
} {
    const hints = new Set(sources.map((s) => s.modelHint));
    const metadata: InheritedMetadata = {};
    for (const field of INHERITED_METADATA) {
        const values = new Set(sources.map((s) => s.metadata[field]));
        const value = sources[0]?.metadata[field];
        if (values.size === 1 && value !== undefined) metadata[field] = value;
    }
    return { modelHint: hints.size === 1 ? sources[0]!.modelHint : undefined, metadata };
}

/**
 * The control-vector file of a vector derived from `sources` (files): the inherited hint and
 * metadata, its name, the time now and the formula it came from.
 */
export function derivedControlVector(sources: readonly ControlVector[], vector: SteeringVector, name: string, derivedFrom: string): ControlVector {
    const inherited = inheritFromSources(sources.map((cv) => ({ modelHint: cv.modelHint, metadata: metadataFromKeys(cv.metadata ?? {}) })));
    const keys: Record<string, string> = {};
    for (const [field, value] of Object.entries(inherited.metadata) as Array<[keyof InheritedMetadata, string]>)
        keys[METADATA_KEYS[field]] = value;
    Object.assign(keys, { [NAME_KEY]: name, [METADATA_KEYS.createdAt]: new Date().toISOString(), [METADATA_KEYS.derivedFrom]: derivedFrom });
    return { modelHint: inherited.modelHint ?? "", nEmbd: vector.nEmbd, directions: new Map(vector.directions), metadata: keys };
}
