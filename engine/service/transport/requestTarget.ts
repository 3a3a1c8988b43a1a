// Splits an HTTP request target ("/path?query") without ever throwing. `new URL(raw, base)` throws on
// targets such as "//[" and reads "//host/x" as a host, and `decodeURIComponent` throws on "/%": an
// exception out of a request handler ends `tiller serve`, so anything unparseable becomes null and
// the caller answers 400.

/** Longer targets are refused outright (Node already caps the whole header block at 16 KiB). */
export const MAX_TARGET_LENGTH = 8 * 1024;

export interface RequestTarget {
    /** percent-decoded, always starting with "/", never containing NUL */
    pathname: string;
    query: URLSearchParams;
}

export function parseRequestTarget(raw: string | undefined): RequestTarget | null {
    const target = raw ?? "/";
    if (!target.startsWith("/") || target.length > MAX_TARGET_LENGTH)
        return null;
    const queryStart = target.indexOf("?");
    const encodedPath = queryStart < 0 ? target : target.slice(0, queryStart);
    let pathname: string;
    try {
        pathname = decodeURIComponent(encodedPath);
    } catch {
        return null; // a malformed escape such as "/%" or "/%E0%A4%A"
    }
    if (pathname.includes("\0"))
        return null;
    // URLSearchParams keeps malformed escapes as they are instead of throwing
    return { pathname, query: new URLSearchParams(queryStart < 0 ? "" : target.slice(queryStart + 1)) };
}
