// The server half of the RPC, independent of the transport: parses and validates client messages
// (zod schemas from the contract), dispatches them to the EngineService with cancellation, turns
// every failure into an `{code, message}` payload, and fans events out to connected clients.
// A bad message gets an error answer; it never takes the engine down.
import { engineRequestSchemas, type EngineEventName, type EngineEvents, type EngineMethod } from "../protocol/EngineContract.js";
import { clientMessageSchema, type ServerMessage } from "../protocol/wire.js";
import { TillerError, toTillerErrorPayload } from "../protocol/TillerError.js";
import type { EngineService } from "./EngineService.js";
import type { RequestContext } from "./requestContext.js";

/** One connected client, whatever carries its messages. */
export interface RpcConnection {
    send(message: ServerMessage): void;
    /**
     * Called once for every message received, when the server is done with it (its answer sent, or
     * at once for a cancel): `id` is the request id it carried ("" when it had none). A transport
     * that meters requests (transport/fairRequestQueue.ts) counts them back in by this.
     */
    settled?(id: string): void;
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
        "probes.sweep": (params, request) => service.probes.sweep(params, request),
        "probes.detect": (params, request) => service.probes.detect(params, request),
        "forensics.detect": (params, request) => service.forensics.detect(params, request),
        "probes.thermo": (params, request) => service.probes.thermo(params, request),
        "sessions.list": (params) => service.sessions.list(params.search),
        "sessions.open": (params) => service.sessions.open(params.id),
        "sessions.rename": (params) => service.sessions.rename(params.id, params.name),
        "sessions.delete": (params) => service.sessions.delete(params.id),
        "sessions.replay": (params, request) => service.sessions.replay(params, request),
        "sessions.export": (params) => service.sessions.export(params),
        "models.scan": () => service.models.scan(),
        "models.catalog": () => service.models.catalog(),
        "models.download": (params, request) => service.models.download(params, request),
        "backends.info": () => service.models.backends(),
        "blackbox.locate": (params, request) => service.blackbox.locate(params, request)
    };
    return handlers as Record<EngineMethod, Handler>;
}

/** Requests one connection may have in flight; more are answered BUSY (each holds memory and maybe the context). */
export const MAX_REQUESTS_IN_FLIGHT = 256;

/** A client's requests in flight, by the id the client chose: ids are only unique within one connection. */
interface ConnectionState {
    connection: RpcConnection;
    inFlight: Map<string, AbortController>;
    /** the prefix of the request ids the service sees, so its progress events can be routed back */
    scope: string;
}

export class EngineRpcServer {
    private readonly handlers: Record<EngineMethod, Handler>;
    private readonly connections = new Set<ConnectionState>();
    private nextConnection = 1;
    private readonly unsubscribe: () => void;

    public constructor(private readonly service: EngineService) {
        this.handlers = handlersFor(service);
        this.unsubscribe = service.onEvent((event, data) => this.fanOut(event, data));
    }

    /**
     * Events go to every client, except a request's progress: that goes only to the client that sent
     * the request, under the id that client chose (two tabs both use "r1").
     */
    private fanOut(event: EngineEventName, data: unknown): void {
        if (event === "progress") {
            const requestId = (data as EngineEvents["progress"]).requestId;
            for (const state of this.connections) {
                if (requestId.startsWith(state.scope)) {
                    state.connection.send({ kind: "event", event, data: { ...(data as EngineEvents["progress"]), requestId: requestId.slice(state.scope.length) } });
                    return;
                }
            }
        }
        for (const state of this.connections)
            state.connection.send({ kind: "event", event, data } as ServerMessage);
    }

    /** Registers a client; returns the function that feeds it its incoming messages, and a close. */
    public connect(connection: RpcConnection): { receive(raw: unknown): void; close(): void } {
        const state: ConnectionState = { connection, inFlight: new Map(), scope: `c${this.nextConnection++}/` };
        this.connections.add(state);
        return {
            receive: (raw) => this.receive(state, raw),
            close: () => {
                this.connections.delete(state);
                for (const controller of state.inFlight.values())
                    controller.abort();
            }
        };
    }

    private receive(state: ConnectionState, raw: unknown): void {
        const { connection } = state;
        let message: unknown = raw;
        if (typeof raw === "string") {
            try {
                message = JSON.parse(raw);
            } catch {
                connection.send({ kind: "error", id: "", error: { code: "INVALID_ARGUMENT", message: "the message is not valid JSON" } });
                connection.settled?.("");
                return;
            }
        }
        const parsed = clientMessageSchema.safeParse(message);
        if (!parsed.success) {
            const id = typeof (message as { id?: unknown })?.id === "string" ? (message as { id: string }).id : "";
            connection.send({ kind: "error", id, error: { code: "INVALID_ARGUMENT", message: `malformed message: ${parsed.error.issues[0]?.message ?? "invalid"}` } });
            connection.settled?.(id);
            return;
        }
        if (parsed.data.kind === "cancel") {
            state.inFlight.get(parsed.data.id)?.abort();
            connection.settled?.(parsed.data.id);
            return;
        }
        const { id, method, params } = parsed.data;
        if (state.inFlight.size >= MAX_REQUESTS_IN_FLIGHT) {
            connection.send({ kind: "error", id, error: { code: "BUSY", message: `more than ${MAX_REQUESTS_IN_FLIGHT} requests in flight on this connection; wait for some to finish` } });
            connection.settled?.(id);
            return;
        }
        if (state.inFlight.has(id)) {
            connection.send({ kind: "error", id, error: { code: "INVALID_ARGUMENT", message: `request id "${id}" is already in flight on this connection` } });
            connection.settled?.(id);
            return;
        }
        void this.dispatch(state, id, method, params);
    }

    private async dispatch(state: ConnectionState, id: string, method: string, params: unknown): Promise<void> {
        const { connection } = state;
        const controller = new AbortController();
        state.inFlight.set(id, controller);
        try {
            if (!Object.hasOwn(engineRequestSchemas, method))
                throw new TillerError("INVALID_ARGUMENT", `unknown request "${method}"`);
            const schema = engineRequestSchemas[method as EngineMethod];
            const checked = schema.safeParse(params ?? {});
            if (!checked.success) {
                const issue = checked.error.issues[0];
                throw new TillerError("INVALID_ARGUMENT", `${method}: ${issue?.path.join(".") || "params"}: ${issue?.message ?? "invalid"}`);
            }
            const result = await this.handlers[method as EngineMethod](checked.data as never, { requestId: state.scope + id, signal: controller.signal });
            connection.send({ kind: "response", id, result: result ?? null });
        } catch (error) {
            connection.send({ kind: "error", id, error: toTillerErrorPayload(error) });
        } finally {
            state.inFlight.delete(id);
            connection.settled?.(id);
        }
    }

    public async dispose(): Promise<void> {
        this.unsubscribe();
        for (const state of this.connections)
            for (const controller of state.inFlight.values())
                controller.abort();
        this.connections.clear();
        await this.service.dispose();
    }
}
