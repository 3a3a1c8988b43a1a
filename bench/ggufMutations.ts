// Seeded mutations of GGUF files, shared by the fuzz test (tests/unit/ggufFuzz.test.ts) and the
// reliability bench: bit flips, hostile counts and sizes, cuts, insertions, deletions, copied spans.

/** mulberry32: small, fast, and the same sequence everywhere for a seed */
export function seededRandom(seed: number): () => number {
    let state = seed >>> 0;
    return () => {
        state = (state + 0x6d2b79f5) >>> 0;
        let t = state;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

const hostileU64 = [0n, 1n, 2n, 0xffn, 0xffffn, 0x7fffffffn, 0xffffffffn, 0x100000000n, 1n << 53n, (1n << 63n) - 1n, (1n << 64n) - 1n, 4097n, 999_999_999n];

/** One mutation of `original`; mostly within `hot` bytes (the header, where the parser works). */
export function mutateGguf(original: Uint8Array, hot: number, next: () => number): { bytes: Uint8Array; how: string } {
    const pick = (limit: number) => Math.floor(next() * limit);
    const bytes = Uint8Array.from(original);
    const kind = pick(7);
    switch (kind) {
        case 0: { // bit flips
            const flips = 1 + pick(8);
            for (let i = 0; i < flips; i++)
                bytes[pick(hot)]! ^= 1 << pick(8);
            return { bytes, how: `flip ${flips} bits` };
        }
        case 1: { // a hostile u64 or u32 at a random position (lengths, counts, dims, offsets, type codes)
            const at = pick(hot - 8);
            const value = hostileU64[pick(hostileU64.length)]!;
            const view = new DataView(bytes.buffer);
            if (next() < 0.5)
                view.setBigUint64(at, value & ((1n << 64n) - 1n), true);
            else
                view.setUint32(at, Number(value & 0xffffffffn), true);
            return { bytes, how: `write ${value} at ${at}` };
        }
        case 2: { // cut short
            const at = next() < 0.8 ? pick(hot) : pick(bytes.length);
            return { bytes: bytes.subarray(0, at), how: `cut at ${at}` };
        }
        case 3: { // insert random bytes
            const at = pick(hot);
            const extra = Uint8Array.from({ length: 1 + pick(64) }, () => pick(256));
            return { bytes: Buffer.concat([bytes.subarray(0, at), extra, bytes.subarray(at)]), how: `insert ${extra.length} at ${at}` };
        }
        case 4: { // delete a span
            const at = pick(hot);
            const length = 1 + pick(64);
            return { bytes: Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + length)]), how: `delete ${length} at ${at}` };
        }
        case 5: { // copy one span of the header over another (duplicate keys, tensor infos)
            const from = pick(hot);
            const to = pick(hot);
            const length = 1 + pick(128);
            bytes.copyWithin(to, from, from + length);
            return { bytes, how: `copy ${length} from ${from} to ${to}` };
        }
        default: { // random bytes spliced in place
            const at = pick(hot);
            const length = 1 + pick(32);
            for (let i = at; i < Math.min(bytes.length, at + length); i++)
                bytes[i] = pick(256);
            return { bytes, how: `scramble ${length} at ${at}` };
        }
    }
}
