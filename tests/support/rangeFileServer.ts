// A loopback HTTP file host for download tests (127.0.0.1, a random port): in-memory bodies with
// Content-Length, Accept-Ranges and Range/206 like a real file host, HEAD, 404 for an unknown name
// and 416 for a range past the end. Bodies go out in 64 KiB pieces with an optional pause between
// pieces, so a test can cancel a download mid-way; the bytes sent in range answers are counted,
// because that is how ipull (node-llama-cpp's downloader) fetches data (a plain GET may only probe
// the size), and a resumed download is shown by fetching less than the whole file.
import http from "node:http";
import type { AddressInfo } from "node:net";

const PIECE_BYTES = 64 * 1024;

export interface ServedFile {
    body: Buffer;
    /** pause this long between 64 KiB pieces (0 or absent: write as fast as the client reads) */
    delayMs?: number;
}

export interface RangeFileServer {
    /** The URL of `name` (which need not be served: an unknown name answers 404). */
    url(name: string): string;
    /** Adds or replaces a file; answers already under way finish with the file they started with. */
    set(name: string, file: ServedFile): void;
    /** Changes a served file's pause, also for answers already under way (e.g. the rest of a slow download). */
    setDelay(name: string, delayMs: number): void;
    /** Bytes of `name` written in range (206) answers so far. */
    rangeBytes(name: string): number;
    /** Every "start-end" range asked for of `name`, in order. */
    ranges(name: string): string[];
    /** Stops the server and drops open connections; safe to call twice. */
    close(): Promise<void>;
}

export interface RangeFileServerOptions {
    /** closes itself after this long, so a failed test cannot leave it running (unset: only close() stops it) */
    lifetimeMs?: number;
}

export async function startRangeFileServer(files: Record<string, ServedFile> = {}, options: RangeFileServerOptions = {}): Promise<RangeFileServer> {
    // copies, so setDelay changes this server's entry and never the caller's object
    const served = new Map(Object.entries(files).map(([name, file]) => [name, { ...file }]));
    const rangeBytes = new Map<string, number>();
    const ranges = new Map<string, string[]>();
    const server = http.createServer((request, response) => {
        const name = decodeURIComponent(new URL(request.url ?? "/", "http://localhost").pathname.slice(1));
        const file = served.get(name);
        if (file == null) {
            response.writeHead(404).end("not found");
            return;
        }
        const size = file.body.length;
        let start = 0;
        let end = size - 1;
        const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? "");
        if (range != null) {
            start = Number(range[1]);
            end = range[2] === "" ? size - 1 : Math.min(Number(range[2]), size - 1);
            if (start >= size || start > end) {
                response.writeHead(416, { "Content-Range": `bytes */${size}` }).end();
                return;
            }
            ranges.set(name, [...ranges.get(name) ?? [], `${start}-${end}`]);
        }
        const headers = { "Content-Type": "application/octet-stream", "Accept-Ranges": "bytes", "Content-Length": String(end - start + 1) };
        if (range != null)
            response.writeHead(206, { ...headers, "Content-Range": `bytes ${start}-${end}/${size}` });
        else
            response.writeHead(200, headers);
        if (request.method === "HEAD") {
            response.end();
            return;
        }
        let position = start;
        let closed = false;
        response.on("close", () => closed = true);
        // the pause is read before every piece, so setDelay reaches an answer under way
        const pause = (): number => file.delayMs ?? 0;
        const writeSome = (): void => {
            while (!closed) {
                const piece = file.body.subarray(position, Math.min(position + PIECE_BYTES, end + 1));
                position += piece.length;
                if (range != null)
                    rangeBytes.set(name, (rangeBytes.get(name) ?? 0) + piece.length);
                const more = response.write(piece);
                if (position > end) {
                    response.end();
                    return;
                }
                // wait for a full socket buffer to drain: the count then holds only what the client takes
                if (!more) {
                    response.once("drain", () => {
                        if (pause() > 0)
                            setTimeout(writeSome, pause());
                        else
                            writeSome();
                    });
                    return;
                }
                if (pause() > 0) {
                    setTimeout(writeSome, pause());
                    return;
                }
            }
        };
        writeSome();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    let stopped = false;
    let lifetime: ReturnType<typeof setTimeout> | undefined;
    const close = async (): Promise<void> => {
        if (stopped)
            return;
        stopped = true;
        clearTimeout(lifetime);
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
    };
    if (options.lifetimeMs != null) {
        lifetime = setTimeout(() => void close(), options.lifetimeMs);
        lifetime.unref(); // the timer alone must not keep the process alive
    }
    return {
        url: (name) => `http://127.0.0.1:${port}/${encodeURIComponent(name)}`,
        set: (name, file) => served.set(name, { ...file }),
        setDelay: (name, delayMs) => {
            const file = served.get(name);
            if (file == null)
                throw new Error(`setDelay: ${name} is not served`);
            file.delayMs = delayMs;
        },
        rangeBytes: (name) => rangeBytes.get(name) ?? 0,
        ranges: (name) => [...ranges.get(name) ?? []],
        close
    };
}
