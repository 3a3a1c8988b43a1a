// The engine's vector library: a folder of llama.cpp control-vector files, one per vector.
//
// Layout: `<folder>/<id>.gguf`, each a control vector exactly as llama.cpp reads it
// (`--control-vector <folder>/<id>.gguf` works), with Tiller's metadata as `tiller.*` string keys
// in the same file:
//
//     tiller.name            display name (default: the id)
//     tiller.created_at      ISO 8601 time the vector was made (default: the file's mtime)
//     tiller.source_dataset  the contrastive pairs it was built from
//     tiller.method          build method ("mean", "pca-diff", "pca-center")
//     tiller.read_at         where activations were read ("last", "mean", ...)
//     tiller.model_sha256    SHA-256 of the model file it was read from
//     tiller.derived_from    for derived vectors, e.g. "negate(3f9c...)", "scale(3f9c..., 0.5)"
//     tiller.notes           free text
//     tiller.calibration     per layer, the class midpoint and pooled σ of the training projections
//                            (JSON; runtime/vectorCalibration.ts): what σ-unit read-outs and triggers use
//
// The files are the only source of truth: there is no index to get out of step, and a vector
// copied into the folder (any `<id>.gguf` whose id matches ID_PATTERN) simply appears. A file that
// cannot be read as a control vector is reported in `list().problems` and otherwise skipped.
// Every write goes to a temporary file that is flushed and renamed over the target, so a crash
// leaves the old file or the new one. Writes of one VectorLibrary object run one at a time.
import { randomBytes } from "node:crypto";
import { mkdirSync, type Dirent } from "node:fs";
import { readdir, readFile, stat, unlink } from "node:fs/promises";
import path from "node:path";
import { encodeControlVector, parseControlVector, readControlVectorFile } from "../../gguf/ControlVectorFile.js";
import type { ControlVector } from "../../gguf/ControlVectorFile.js";
import { encodeNpy, writeFileAtomic } from "../../io/npy.js";
import { TillerError } from "../../protocol/TillerError.js";
import type { VectorInfo, VectorMetadataInfo } from "../../protocol/vectors.js";
import { ggufErrorToTillerError } from "../../runtime/ggufErrors.js";
import type { SteeringVector } from "../../runtime/SteeringVector.js";
import { CALIBRATION_KEY, decodeCalibration, encodeCalibration } from "../../runtime/vectorCalibration.js";
import {
    assertValidVector,
    cosineSimilarityMatrices,
    directionNorm,
    negateVector,
    normalizeVector,
    scaleVector,
    weightedSumOfVectors
} from "./vectorArithmetic.js";
import { inheritFromSources, METADATA_KEYS, metadataFromKeys, NAME_KEY } from "./derivedMetadata.js";

/** What `add` records with a vector; every field is optional. */
export interface AddVectorOptions extends Partial<VectorMetadataInfo> {
    /** architecture the vector was made for; default "" (unknown) */
    modelHint?: string;
}

export interface VectorLibraryProblem {
    /** file name inside the library folder */
    file: string;
    message: string;
}

export interface VectorListing {
    /** oldest first (by createdAt, then id) */
    entries: VectorInfo[];
    /** files that look like vectors but could not be read */
    problems: VectorLibraryProblem[];
}

export interface VectorCosineMatrix {
    ids: string[];
    /** the union of the vectors' layers, ascending */
    layers: number[];
    /** layer → matrix over `ids`; NaN where a vector lacks the layer or is zero there */
    matrices: Map<number, number[][]>;
}

/** Ids the library accepts for files: no path separators, no leading dot. */
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const EXTENSION = ".gguf";
const SHA256_PATTERN = /^[0-9a-f]{64}$/;

export class VectorLibrary {
    readonly folder: string;
    /** entries of files already read, by file name; valid while the file's inode, size and mtime are */
    #cache = new Map<string, { stamp: string; entry: VectorInfo }>();
    #writes: Promise<unknown> = Promise.resolve();

    /** Opens the library in `folder`, creating the folder (and its parents) when absent. */
    constructor(folder: string) {
        this.folder = path.resolve(folder);
        try {
            mkdirSync(this.folder, { recursive: true });
        } catch (cause) {
            const reason = cause instanceof Error ? cause.message : String(cause);
            throw new TillerError("INTERNAL", `cannot create the vector library folder "${this.folder}": ${reason}`, { cause });
        }
    }

    // --- Reading -------------------------------------------------------------------------------

    /** Every readable vector, and the files that could not be read. Never throws for a bad file. */
    async list(): Promise<VectorListing> {
        const entries: VectorInfo[] = [];
        const problems: VectorLibraryProblem[] = [];
        let listing: Dirent[];
        try {
            listing = await readdir(this.folder, { withFileTypes: true });
        } catch (cause) {
            const code = (cause as NodeJS.ErrnoException).code === "ENOENT" ? "FILE_NOT_FOUND" : "INTERNAL";
            throw new TillerError(code, `cannot read the vector library folder "${this.folder}": ${(cause as Error).message}`, { cause });
        }
        const files = listing
            .filter((f) => f.name.endsWith(EXTENSION) && !f.name.startsWith(".") && (f.isFile() || f.isSymbolicLink()))
            .map((f) => f.name)
            .sort();
        const seen = new Set<string>();
        for (const file of files) {
            seen.add(file);
            const id = file.slice(0, -EXTENSION.length);
            if (!ID_PATTERN.test(id)) {
                problems.push({ file, message: `"${file}" is not a valid vector file name (use letters, digits, ".", "_", "-")` });
                continue;
            }
            try {
                const info = await stat(path.join(this.folder, file), { bigint: true });
                const stamp = `${info.ino}:${info.size}:${info.mtimeNs}`;
                const cached = this.#cache.get(file);
                if (cached?.stamp === stamp) {
                    entries.push(cached.entry);
                    continue;
                }
                const bytes = await readFile(path.join(this.folder, file));
                const entry = entryOf(id, parseControlVector(bytes, file), new Date(Number(info.mtimeMs)).toISOString());
                this.#cache.set(file, { stamp, entry });
                entries.push(entry);
            } catch (error) {
                this.#cache.delete(file);
                problems.push({ file, message: ggufErrorToTillerError(error, file, "control-vector").message });
            }
        }
        for (const file of this.#cache.keys()) {
            if (!seen.has(file)) this.#cache.delete(file);
        }
        entries.sort((a, b) => a.metadata.createdAt.localeCompare(b.metadata.createdAt) || a.id.localeCompare(b.id));
        return { entries, problems };
    }

    /** The entry and directions of vector `id`. FILE_NOT_FOUND when there is none. */
    async get(id: string): Promise<{ entry: VectorInfo; vector: SteeringVector }> {
        const { entry, cv } = await this.#read(id);
        const calibration = decodeCalibration(cv.metadata);
        return { entry, vector: { name: entry.name, nEmbd: cv.nEmbd, directions: cv.directions, ...(calibration != null ? { calibration } : {}) } };
    }

    // --- Writing -------------------------------------------------------------------------------

    /**
     * Stores `vector` as a new entry (its directions are copied). Throws INVALID_ARGUMENT for an
     * empty name, a malformed vector (see assertValidVector) or malformed metadata.
     */
    async add(vector: SteeringVector, options: AddVectorOptions = {}): Promise<VectorInfo> {
        assertValidVector(vector);
        const name = checkName(vector.name);
        const { modelHint = "", ...metadata } = options;
        if (typeof modelHint !== "string")
            throw new TillerError("INVALID_ARGUMENT", "modelHint must be a string");
        const keys: Record<string, string> = { [NAME_KEY]: name };
        for (const [field, key] of Object.entries(METADATA_KEYS) as Array<[keyof VectorMetadataInfo, string]>) {
            const value = metadata[field];
            if (value === undefined) continue;
            if (typeof value !== "string")
                throw new TillerError("INVALID_ARGUMENT", `metadata ${field} must be a string, not ${typeof value}`);
            keys[key] = value;
        }
        if (metadata.modelSha256 !== undefined && !SHA256_PATTERN.test(metadata.modelSha256))
            throw new TillerError("INVALID_ARGUMENT", `modelSha256 must be 64 lower-case hex digits, not "${metadata.modelSha256}"`);
        if (metadata.createdAt !== undefined && Number.isNaN(Date.parse(metadata.createdAt)))
            throw new TillerError("INVALID_ARGUMENT", `createdAt must be an ISO 8601 time, not "${metadata.createdAt}"`);
        keys[METADATA_KEYS.createdAt] ??= new Date().toISOString();
        if (vector.calibration != null && vector.calibration.size > 0)
            keys[CALIBRATION_KEY] = encodeCalibration(vector.calibration);

        const cv: ControlVector = {
            modelHint,
            nEmbd: vector.nEmbd,
            directions: new Map([...vector.directions].sort(([a], [b]) => a - b).map(([l, d]) => [l, Float32Array.from(d)])),
            metadata: keys
        };
        return this.#exclusive(async () => {
            const id = await this.#newId();
            await this.#write(id, cv);
            return entryOf(id, cv, keys[METADATA_KEYS.createdAt]!);
        });
    }

    /** Gives vector `id` a new display name (the id stays). */
    async rename(id: string, name: string): Promise<VectorInfo> {
        const checked = checkName(name);
        return this.#exclusive(async () => {
            const { cv, entry } = await this.#read(id);
            cv.metadata = { ...cv.metadata, [NAME_KEY]: checked, [METADATA_KEYS.createdAt]: entry.metadata.createdAt };
            await this.#write(id, cv);
            return entryOf(id, cv, entry.metadata.createdAt);
        });
    }

    /** Removes vector `id`'s file. FILE_NOT_FOUND when there is none. */
    async delete(id: string): Promise<void> {
        await this.#exclusive(async () => {
            const file = this.#fileOf(id);
            try {
                await unlink(file);
            } catch (cause) {
                if ((cause as NodeJS.ErrnoException).code === "ENOENT")
                    throw notFound(id, this.folder);
                throw new TillerError("INTERNAL", `cannot delete "${file}": ${(cause as Error).message}`, { cause });
            }
            this.#cache.delete(path.basename(file));
        });
    }

    // --- Derived vectors (each a new entry that records `derivedFrom`) --------------------------

    /** −v as a new entry named `name` (default "negate(<name>)"). */
    async negate(id: string, name?: string): Promise<VectorInfo> {
        const { entry, vector } = await this.get(id);
        return this.#addDerived([entry], negateVector(vector, name ?? `negate(${entry.name})`), `negate(${id})`);
    }

    /** factor·v as a new entry. INVALID_ARGUMENT unless `factor` is finite. */
    async scale(id: string, factor: number, name?: string): Promise<VectorInfo> {
        if (typeof factor !== "number" || !Number.isFinite(factor))
            throw new TillerError("INVALID_ARGUMENT", `the scale factor must be a finite number, not ${String(factor)}`);
        const { entry, vector } = await this.get(id);
        return this.#addDerived([entry], scaleVector(vector, factor, name ?? `scale(${entry.name}, ${factor})`), `scale(${id}, ${factor})`);
    }

    /** Each layer scaled to unit norm (a zero layer stays zero), as a new entry. */
    async normalize(id: string, name?: string): Promise<VectorInfo> {
        const { entry, vector } = await this.get(id);
        return this.#addDerived([entry], normalizeVector(vector, name ?? `normalize(${entry.name})`), `normalize(${id})`);
    }

    /**
     * Σ weightᵢ·vᵢ as a new entry named `name`, over the union of the layers (a vector lacking a
     * layer adds zero there). VECTOR_MISMATCH when the widths differ; INVALID_ARGUMENT for no terms
     * or a non-finite weight. The model hint and inherited metadata are kept where all terms agree.
     */
    async weightedSum(terms: ReadonlyArray<{ id: string; weight: number }>, name: string): Promise<VectorInfo> {
        checkName(name);
        if (!Array.isArray(terms) || terms.length === 0)
            throw new TillerError("INVALID_ARGUMENT", "a weighted sum needs at least one vector");
        for (const { id, weight } of terms) {
            if (typeof weight !== "number" || !Number.isFinite(weight))
                throw new TillerError("INVALID_ARGUMENT", `the weight of vector ${id} must be a finite number, not ${String(weight)}`);
        }
        const loaded = await Promise.all(terms.map(async (t) => ({ ...(await this.get(t.id)), weight: t.weight })));
        const sum = weightedSumOfVectors(loaded.map(({ vector, weight }) => ({ vector, weight })), name);
        const formula = terms.map((t) => `${t.weight}*${t.id}`).join(", ");
        return this.#addDerived(loaded.map((l) => l.entry), sum, `weightedSum(${formula})`);
    }

    /** Per-layer cosine similarity between the vectors `ids` (in that order; repeats allowed). */
    async cosineMatrix(ids: readonly string[]): Promise<VectorCosineMatrix> {
        const vectors = await Promise.all(ids.map(async (id) => (await this.get(id)).vector));
        const { layers, matrices } = cosineSimilarityMatrices(vectors);
        return { ids: [...ids], layers, matrices };
    }

    // --- Import and export ---------------------------------------------------------------------

    /**
     * Copies a llama.cpp / repeng control vector (int32 or uint32 `layer_count`) into the library as
     * a new entry. Its `tiller.*` keys are kept; the name is `tiller.name`, else the file's name
     * without extension. Errors: FILE_NOT_FOUND, NOT_GGUF, TRUNCATED_FILE, UNSUPPORTED_GGUF
     * (not a control vector), INVALID_ARGUMENT (no directions, non-finite values).
     */
    async importGguf(filePath: string, options: { name?: string } = {}): Promise<VectorInfo> {
        let cv: ControlVector;
        try {
            cv = await readControlVectorFile(filePath);
        } catch (error) {
            throw ggufErrorToTillerError(error, filePath, "control-vector");
        }
        const metadata = { ...cv.metadata };
        const name = checkName(options.name ?? metadata[NAME_KEY] ?? path.parse(filePath).name);
        assertValidVector({ name, nEmbd: cv.nEmbd, directions: cv.directions });
        metadata[NAME_KEY] = name;
        metadata[METADATA_KEYS.createdAt] ??= new Date().toISOString();
        const stored: ControlVector = { modelHint: cv.modelHint, nEmbd: cv.nEmbd, directions: cv.directions, metadata };
        return this.#exclusive(async () => {
            const id = await this.#newId();
            await this.#write(id, stored);
            return entryOf(id, stored, metadata[METADATA_KEYS.createdAt]!);
        });
    }

    /**
     * Writes vector `id` to `filePath` (atomically) as a llama.cpp control vector: architecture
     * "controlvector", model_hint, int32 layer_count, `direction.N` F32 tensors, plus its `tiller.*`
     * keys (which llama.cpp ignores).
     */
    async exportGguf(id: string, filePath: string): Promise<void> {
        const { cv } = await this.#read(id);
        await writeFileAtomic(filePath, encodeControlVector(cv));
    }

    /**
     * Writes vector `id` to `filePath` (atomically) as ONE float32 `.npy` array of shape
     * `[maxLayer + 1, nEmbd]` whose row k is the direction of llama.cpp layer k — the one added to
     * the output of block k. Row index == llama.cpp layer index, so row 0 (block 0, which cannot
     * be steered) and every layer the vector lacks are rows of zeros. In numpy:
     * `np.load(path)[k]` is `direction.k` of the GGUF file.
     */
    async exportNpy(id: string, filePath: string): Promise<void> {
        const { cv } = await this.#read(id);
        const maxLayer = Math.max(0, ...cv.directions.keys());
        const rows = new Float32Array((maxLayer + 1) * cv.nEmbd);
        for (const [layer, direction] of cv.directions)
            rows.set(direction, layer * cv.nEmbd);
        await writeFileAtomic(filePath, encodeNpy(rows, [maxLayer + 1, cv.nEmbd]));
    }

    // --- Internals -----------------------------------------------------------------------------

    #fileOf(id: string): string {
        if (typeof id !== "string" || !ID_PATTERN.test(id))
            throw notFound(String(id), this.folder);
        return path.join(this.folder, id + EXTENSION);
    }

    async #read(id: string): Promise<{ entry: VectorInfo; cv: ControlVector }> {
        const file = this.#fileOf(id);
        let bytes: Uint8Array;
        let mtime: string;
        try {
            bytes = await readFile(file);
            mtime = (await stat(file)).mtime.toISOString();
        } catch (cause) {
            if ((cause as NodeJS.ErrnoException).code === "ENOENT")
                throw notFound(id, this.folder);
            throw new TillerError("INTERNAL", `cannot read "${file}": ${(cause as Error).message}`, { cause });
        }
        try {
            const cv = parseControlVector(bytes, path.basename(file));
            return { cv, entry: entryOf(id, cv, mtime) };
        } catch (error) {
            throw ggufErrorToTillerError(error, file, "control-vector");
        }
    }

    async #write(id: string, cv: ControlVector): Promise<void> {
        let bytes: Uint8Array;
        try {
            bytes = encodeControlVector(cv);
        } catch (error) {
            throw new TillerError("INVALID_ARGUMENT", (error as Error).message, { cause: error });
        }
        await writeFileAtomic(this.#fileOf(id), bytes);
        this.#cache.delete(id + EXTENSION);
    }

    async #newId(): Promise<string> {
        for (;;) {
            const id = randomBytes(8).toString("hex");
            try {
                await stat(this.#fileOf(id));
            } catch {
                return id;
            }
        }
    }

    async #addDerived(sources: VectorInfo[], vector: SteeringVector, derivedFrom: string): Promise<VectorInfo> {
        const { modelHint, metadata } = inheritFromSources(sources);
        return this.add(vector, { ...metadata, derivedFrom, ...(modelHint !== undefined ? { modelHint } : {}) });
    }

    /** Runs `fn` after every earlier write of this object has finished. */
    #exclusive<T>(fn: () => Promise<T>): Promise<T> {
        const run = this.#writes.then(fn, fn);
        this.#writes = run.catch(() => undefined);
        return run;
    }
}

function notFound(id: string, folder: string): TillerError {
    return new TillerError("FILE_NOT_FOUND", `no vector with id "${id}" in the library "${folder}"`);
}

function checkName(name: unknown): string {
    if (typeof name !== "string" || name.trim() === "")
        throw new TillerError("INVALID_ARGUMENT", "a vector's name must be a non-empty string");
    return name;
}

/** The entry of a parsed file; `fallbackCreatedAt` when it has no `tiller.created_at`. */
function entryOf(id: string, cv: ControlVector, fallbackCreatedAt: string): VectorInfo {
    const keys = cv.metadata ?? {};
    const metadata: VectorMetadataInfo = { ...metadataFromKeys(keys), createdAt: keys[METADATA_KEYS.createdAt] ?? fallbackCreatedAt };
    const layers = [...cv.directions.keys()].sort((a, b) => a - b);
    const norms: Record<number, number> = {};
    for (const layer of layers) norms[layer] = directionNorm(cv.directions.get(layer)!);
    return { id, name: keys[NAME_KEY] ?? id, nEmbd: cv.nEmbd, modelHint: cv.modelHint, layers, norms, metadata };
}
