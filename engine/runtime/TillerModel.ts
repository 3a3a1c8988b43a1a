// A GGUF model loaded once, through Tiller's addon, on the backend node-llama-cpp chose.
import path from "node:path";
import type { SteeringSupportInfo } from "../protocol/steeringSupport.js";
import { TillerError } from "../protocol/TillerError.js";
import type { NativeModel } from "../native/AddonTypes.js";
import { checkModelFile } from "./checkModelFile.js";
import type { DecodePriority } from "./decodePriority.js";
import type { LoadedModel, ModelShape } from "./loadedModel.js";
import { probeSteeringSupport } from "./probeSteeringSupport.js";
import { resolveGpuLayers } from "./resolveGpuLayers.js";
import { TillerContext, type ContextOptions } from "./TillerContext.js";
import { getTillerBackend, type TillerBackend } from "./TillerBackend.js";
import { TokenPieces } from "./TokenPieces.js";

export type { ModelShape } from "./loadedModel.js";

export interface LoadModelOptions {
    /** layers to offload to the GPU: a number, or "auto" (default) to let node-llama-cpp fit them */
    gpuLayers?: number | "auto";
    /** memory-map the weights (default true: the OS shares pages, RSS stays near the file size) */
    useMmap?: boolean;
    /**
     * check that steering reaches the graph and every block can be captured (default true: two
     * 1-token decodes); without the check, `support` is null and nothing is refused
     */
    checkSupport?: boolean;
    /**
     * the priority its contexts decode at unless a context asks otherwise (runtime/decodePriority.ts);
     * default "normal"; an engine serving a UI passes "background"
     */
    decodePriority?: DecodePriority;
}

export class TillerModel implements LoadedModel {
    public readonly path: string;
    public readonly shape: ModelShape;
    /** the chat template stored in the GGUF, if any */
    public readonly chatTemplate: string | null;
    /** layers actually offloaded to the GPU */
    public readonly gpuLayers: number;
    public readonly backend: TillerBackend;
    public readonly decodePriority: DecodePriority;
    /** what the load-time check measured (null when it was skipped) */
    public support: SteeringSupportInfo | null = null;

    private native: NativeModel | undefined;
    private readonly contexts = new Set<TillerContext>();
    private readonly eogCache = new Map<number, boolean>();
    /** token pieces, fetched once per id (special tokens not rendered) */
    public readonly pieces = new TokenPieces((id) => this.nativeModel().tokenPiece(id, false));

    private constructor(backend: TillerBackend, modelPath: string, native: NativeModel, gpuLayers: number, decodePriority: DecodePriority) {
        this.backend = backend;
        this.decodePriority = decodePriority;
        this.path = modelPath;
        this.native = native;
        this.gpuLayers = gpuLayers;
        const info = native.info();
        this.chatTemplate = info.chatTemplate;
        this.shape = {
            architecture: info.architecture ?? "unknown",
            nLayer: info.nLayer,
            nEmbd: info.nEmbd,
            nVocab: info.nVocab,
            nHead: info.nHead,
            nHeadKv: info.nHeadKv,
            nCtxTrain: info.nCtxTrain,
            nParams: info.nParams,
            sizeBytes: info.sizeBytes,
            description: info.description,
            hasChatTemplate: info.chatTemplate != null,
            bos: info.bos,
            eos: info.eos
        };
    }

    /** Checks the file, then loads it; bad files fail with a TillerError naming the problem. */
    public static async load(modelPath: string, options: LoadModelOptions = {}, backend?: TillerBackend): Promise<TillerModel> {
        const resolvedPath = path.resolve(modelPath);
        await checkModelFile(resolvedPath);
        const resolvedBackend = backend ?? await getTillerBackend();
        const gpuLayers = await resolveGpuLayers(resolvedBackend, resolvedPath, options.gpuLayers ?? "auto");
        let native: NativeModel;
        try {
            native = await resolvedBackend.addon.loadModel(resolvedPath, gpuLayers, options.useMmap ?? true);
        } catch (error) {
            throw new TillerError("MODEL_LOAD_FAILED", (error as Error).message, { cause: error });
        }
        const model = new TillerModel(resolvedBackend, resolvedPath, native, gpuLayers, options.decodePriority ?? "normal");
        if (options.checkSupport ?? true) {
            try {
                model.support = await probeSteeringSupport({
                    shape: model.shape,
                    openProbeContext: () => model.createContext({ contextSize: 8, batchSize: 8, precise: true })
                });
            } catch (error) {
                await model.dispose();
                throw error;
            }
        }
        return model;
    }

    /** Throws STEERING_UNSUPPORTED when the load-time check found that control vectors have no effect. */
    public assertSteerable(): void {
        if (this.support != null && !this.support.steering)
            throw new TillerError("STEERING_UNSUPPORTED", this.support.message ?? `the "${this.shape.architecture}" architecture does not support steering`);
    }

    /** Throws STEERING_UNSUPPORTED when one of `layers` cannot be captured on this architecture. */
    public assertCapturable(layers: readonly number[]): void {
        if (this.support == null)
            return;
        const missing = layers.filter((layer) => this.support!.uncapturedLayers.includes(layer));
        if (missing.length > 0)
            throw new TillerError("STEERING_UNSUPPORTED", this.support.message ??
                `block outputs ${missing.join(", ")} cannot be captured on the "${this.shape.architecture}" architecture`);
    }

    public get disposed(): boolean {
        return this.native == null;
    }

    /** @internal the native handle, for contexts */
    public nativeModel(): NativeModel {
        if (this.native == null)
            throw new TillerError("DISPOSED", `the model "${path.basename(this.path)}" was disposed`);
        return this.native;
    }

    public tokenize(text: string, options: { addBos?: boolean; special?: boolean } = {}): Int32Array {
        return this.nativeModel().tokenize(text, options.addBos ?? true, options.special ?? false);
    }

    /** The raw bytes of a token (a piece can be part of a multi-byte character); shared, do not modify. */
    public tokenBytes(token: number): Uint8Array {
        return this.pieces.get(token).bytes;
    }

    /** A token's piece as text (a partial multi-byte character shows as U+FFFD); `special` renders control tokens. */
    public tokenText(token: number, special = false): string {
        return special ? Buffer.from(this.nativeModel().tokenPiece(token, true)).toString("utf8") : this.pieces.get(token).display;
    }

    public detokenize(tokens: ArrayLike<number>): string {
        const parts: Uint8Array[] = [];
        for (let i = 0; i < tokens.length; i++)
            parts.push(this.tokenBytes(tokens[i]!));
        return Buffer.concat(parts).toString("utf8");
    }

    /** end of generation (EOS, EOT, ...) */
    public isEndOfGeneration(token: number): boolean {
        let eog = this.eogCache.get(token);
        if (eog == null) {
            eog = this.nativeModel().isEog(token);
            this.eogCache.set(token, eog);
        }
        return eog;
    }

    /** a GGUF metadata value as llama.cpp formats it, or null */
    public metadata(key: string): string | null {
        return this.nativeModel().meta(key);
    }

    public async createContext(options: ContextOptions = {}): Promise<TillerContext> {
        const context = await TillerContext.create(this, options);
        this.contexts.add(context);
        context.onDispose(() => this.contexts.delete(context));
        return context;
    }

    /** Disposes the model's contexts, then the weights. Idempotent. */
    public async dispose(): Promise<void> {
        if (this.native == null)
            return;
        for (const context of [...this.contexts])
            await context.dispose();
        this.native.dispose();
        this.native = undefined;
    }
}
