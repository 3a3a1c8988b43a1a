/**
 * IEEE 754 half precision (ggml's F16) and bfloat16 conversions, bit by bit, since Node 20 has
 * neither `Float16Array` nor `Math.f16round`.
 */

// One shared 4-byte scratch buffer to see a float32's bits.
const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/**
 * Round a number to float32, then to the nearest float16 (ties to even) and return its 16 bits.
 * Overflow gives ±Inf (values from 65520 up, as in IEEE), tiny values give subnormals or ±0, NaN
 * stays NaN (quiet, with the top payload bits kept).
 */
export function float32ToFloat16Bits(x: number): number {
    scratchF32[0] = x;
    const bits = scratchU32[0]!;
    const sign = (bits >>> 16) & 0x8000;
    const exp32 = (bits >>> 23) & 0xff;
    const mant32 = bits & 0x7fffff;

    if (exp32 === 0xff) {
        // Inf or NaN.
        return mant32 === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mant32 >>> 13);
    }

    // Exponent rebased from float32's bias (127) to float16's (15).
    const exp16 = exp32 - 127 + 15;
    if (exp16 >= 0x1f) {
        return sign | 0x7c00;
    }

    if (exp16 <= 0) {
        // Subnormal (or zero) in float16: value = m · 2^-24 with m = full >> (14 - exp16).
        if (exp16 < -10) {
            // Below half of the smallest subnormal: rounds to zero.
            return sign;
        }
        const full = mant32 | 0x800000;
        const shift = 14 - exp16; // 14..24
        let m = full >>> shift;
        const rest = full & ((1 << shift) - 1);
        const half = 1 << (shift - 1);
        if (rest > half || (rest === half && (m & 1) === 1)) {
            m += 1; // may carry into the exponent field: that is the smallest normal, correctly.
        }
        return sign | m;
    }

    // Normal: keep the top 10 mantissa bits, round on the 13 dropped ones.
    let h = (exp16 << 10) | (mant32 >>> 13);
    const rest = mant32 & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) {
        h += 1; // a carry into the exponent is right, and gives Inf past the largest finite value.
    }
    return sign | h;
}

/** The exact value of a float16 given by its 16 bits. */
export function float16BitsToFloat32(h: number): number {
    const negative = (h & 0x8000) !== 0;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    let value: number;
    if (exp === 0) {
        value = mant * 2 ** -24;
    } else if (exp === 0x1f) {
        value = mant === 0 ? Infinity : NaN;
    } else {
        value = (1 + mant / 1024) * 2 ** (exp - 15);
    }
    return negative ? -value : value;
}

/** The value of a bfloat16 given by its 16 bits (the top half of a float32). */
export function bfloat16BitsToFloat32(h: number): number {
    scratchU32[0] = (h & 0xffff) << 16;
    return scratchF32[0]!;
}

/** Encode float32 values as little-endian float16 bytes (2 per value). */
export function encodeFloat16(values: ArrayLike<number>): Uint8Array {
    const out = new Uint8Array(values.length * 2);
    if (HOST_IS_LITTLE_ENDIAN) {
        const halves = new Uint16Array(out.buffer);
        for (let i = 0; i < values.length; i++) halves[i] = float32ToFloat16Bits(values[i]!);
        return out;
    }
    const view = new DataView(out.buffer);
    for (let i = 0; i < values.length; i++) view.setUint16(i * 2, float32ToFloat16Bits(values[i]!), true);
    return out;
}

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
