// The server half of the RPC, independent of the transport: parses and validates client messages
// (zod schemas from the contract), dispatches them to the EngineService with cancellation, turns
// every failure into an `{code, message}` payload, and fans events out to connected clients.
// A bad message gets an error answer; it never takes the engine down.
import {
    clientMessageSchema, engineRequestSchemas, type EngineMethod, type ServerMessage
} from "../protocol/EngineContract.js";
import { TillerError, toTillerErrorPayload } from "../protocol/TillerError.js";
import type { EngineService, RequestContext } from "./EngineService.js";

/** One connected client, whatever carries its messages. */
export interface RpcConnection {
    send(message: ServerMessage): void;
}

type Handler = (params: never, request: RequestContext) => Promise<unknown> | unknown;

function handlersFor(service: EngineService): Record<EngineMethod, Handler> {
    const handlers: { [M in EngineMethod]: (params: ReturnType<typeof engineRequestSchemas[M]["parse"]>, request: RequestContext) => unknown } = {
        "engine.info": () => service.info(),
        "model.load": (params, request) => service.loadModel(params, request),
        "model.unload": async () => {
            await service.unloadModel();
            return null;
        },
        "datasets.list": () => service.listDatasets(),
        "vectors.list": () => service.listVectors(),
        "vectors.build": (params, request) => service.buildVector(params, request),
        "vectors.import": (params) => service.importVector(params.path),
        "vectors.export": (params) => service.exportVector(params),
        "vectors.rename": (params) => service.renameVector(params.id, params.name),
        "vectors.delete": (params) => service.deleteVector(params.id),
        "vectors.combine": (params) => service.combineVectors(params.terms, params.name),
        "run.start": (params) => service.startRun(params),
        "run.setPatches": (params) => service.setRunPatches(params.runId, params.patches),
        "run.stop": (params) => service.stopRun(params.runId),
        "probes.sweep": (params, request) => service.sweep(params, request),
        "probes.detect": (params, request) => service.detect(params, request),
        "sessions.list": (params) => service.sessions.list(params.search),
        "sessions.open": (params) => service.sessions.open(params.id),
        "sessions.rename": (params) => service.sessions.rename(params.id, params.name),
        "sessions.delete": (params) => service.sessions.delete(params.id),
        "sessions.replay": (params, request) => service.sessions.replay(params, request),
        "sessions.export": (params) => service.sessions.export(params),
        "models.scan": () => service.models.scan(),
        "models.catalog": () => service.models.catalog(),
        "models.download": (params, request) => service.models.download(params, request),
        "backends.info": () => service.models.backends()
    };
    return handlers as Record<EngineMethod, Handler>;
}

export class EngineRpcServer {
    private readonly handlers: Record<EngineMethod, Handler>;
    private readonly connections = new Set<RpcConnection>();
    private readonly inFlight = new Map<string, AbortController>();
    private readonly unsubscribe: () => void;

    public constructor(private readonly service: EngineService) {
        this.handlers = handlersFor(service);
        this.unsubscribe = service.onEvent((event, data) => {
            for (const connection of this.connections)
                connection.send({ kind: "event", event, data });
        });
    }

    /** Registers a client; returns the function that feeds it its incoming messages, and a close. */
    public connect(connection: RpcConnection): { receive(raw: unknown): void; close(): void } {
        this.connections.add(connection);
        const ownRequests = new Set<string>();
        return {
            receive: (raw) => this.receive(connection, raw, ownRequests),
            close: () => {
                this.connections.delete(connection);
                for (const id of ownRequests)
                    this.inFlight.get(id)?.abort();
            }
        };
    }

    private receive(connection: RpcConnection, raw: unknown, ownRequests: Set<string>): void {
        let message: unknown = raw;
        if (typeof raw === "string") {
            try {
                message = JSON.parse(raw);
            } catch {
                connection.send({ kind: "error", id: "", error: { code: "INVALID_ARGUMENT", message: "the message is not valid JSON" } });
                return;
            }
        }
        const parsed = clientMessageSchema.safeParse(message);
        if (!parsed.success) {
            const id = typeof (message as { id?: unknown })?.id === "string" ? (message as { id: string }).id : "";
            connection.send({ kind: "error", id, error: { code: "INVALID_ARGUMENT", message: `malformed message: ${parsed.error.issues[0]?.message ?? "invalid"}` } });
            return;
        }
        if (parsed.data.kind === "cancel") {
            this.inFlight.get(parsed.data.id)?.abort();
            return;
        }
        const { id, method, params } = parsed.data;
        void this.dispatch(connection, id, method, params, ownRequests);
    }

    private async dispatch(connection: RpcConnection, id: string, method: string, params: unknown, ownRequests: Set<string>): Promise<void> {
        const controller = new AbortController();
        try {
            if (!Object.hasOwn(engineRequestSchemas, method))
                throw new TillerError("INVALID_ARGUMENT", `unknown request "${method}"`);
            const schema = engineRequestSchemas[method as EngineMethod];
            const checked = schema.safeParse(params ?? {});
            if (!checked.success) {
                const issue = checked.error.issues[0];
                throw new TillerError("INVALID_ARGUMENT", `${method}: ${issue?.path.join(".") || "params"}: ${issue?.message ?? "invalid"}`);
            }
            this.inFlight.set(id, controller);
            ownRequests.add(id);
            const result = await this.handlers[method as EngineMethod](checked.data as never, { requestId: id, signal: controller.signal });
            connection.send({ kind: "response", id, result: result ?? null });
        } catch (error) {
            connection.send({ kind: "error", id, error: toTillerErrorPayload(error) });
        } finally {
            this.inFlight.delete(id);
            ownRequests.delete(id);
        }
    }

    public async dispose(): Promise<void> {
        this.unsubscribe();
        for (const controller of this.inFlight.values())
            controller.abort();
        this.connections.clear();
        await this.service.dispose();
    }
}
