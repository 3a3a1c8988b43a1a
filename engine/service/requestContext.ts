// What every request handler of the engine service gets besides its params: the request's id (its
// progress events carry it) and the signal that cancels it.
export interface RequestContext {
    requestId: string;
    signal: AbortSignal;
}
