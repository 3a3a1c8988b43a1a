// What code holding a context sees of its model: everything of a loaded TillerModel except creating
// contexts and disposing it. TillerModel implements it; TillerContext types its `model` with it, so
// the model and its contexts do not import each other.
import type { ModelShapeInfo } from "../protocol/models.js";
import type { SteeringSupportInfo } from "../protocol/steeringSupport.js";
import type { NativeModel } from "../native/AddonTypes.js";
import type { DecodePriority } from "./decodePriority.js";
import type { TillerBackend } from "./TillerBackend.js";
import type { TokenPieces } from "./TokenPieces.js";

/** The model's shape as the contract describes it, plus the special tokens the engine needs. */
export interface ModelShape extends ModelShapeInfo {
    bos: number;
    eos: number;
}

export interface LoadedModel {
    readonly path: string;
    readonly shape: ModelShape;
    /** the chat template stored in the GGUF, if any */
    readonly chatTemplate: string | null;
    /** layers actually offloaded to the GPU */
    readonly gpuLayers: number;
    readonly backend: TillerBackend;
    /** the priority its contexts decode at unless they ask otherwise (runtime/decodePriority.ts) */
    readonly decodePriority: DecodePriority;
    /** what the load-time check measured (null when it was skipped) */
    readonly support: SteeringSupportInfo | null;
    readonly disposed: boolean;
    /** Throws STEERING_UNSUPPORTED when the load-time check found that control vectors have no effect. */
    assertSteerable(): void;
    /** Throws STEERING_UNSUPPORTED when one of `layers` cannot be captured on this architecture. */
    assertCapturable(layers: readonly number[]): void;
    /** @internal the native handle, for contexts */
    nativeModel(): NativeModel;
    tokenize(text: string, options?: { addBos?: boolean; special?: boolean }): Int32Array;
    /** token pieces, fetched once per id */
    readonly pieces: TokenPieces;
    /** The raw bytes of a token (a piece can be part of a multi-byte character); shared, do not modify. */
    tokenBytes(token: number): Uint8Array;
    /** A token's piece as text (a partial multi-byte character shows as U+FFFD); `special` renders control tokens. */
    tokenText(token: number, special?: boolean): string;
    detokenize(tokens: ArrayLike<number>): string;
    /** end of generation (EOS, EOT, ...) */
    isEndOfGeneration(token: number): boolean;
    /** a GGUF metadata value as llama.cpp formats it, or null */
    metadata(key: string): string | null;
}
