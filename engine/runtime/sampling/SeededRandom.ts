/**
 * Tiny deterministic PRNG (splitmix32: a Weyl sequence pushed through a 32-bit avalanche mix).
 *
 * Math.random cannot be seeded, and reproducible generations are the whole point of a fixed
 * sampling seed. splitmix32 is a few integer ops per draw, has no bad seeds (0 included), and
 * is plenty for picking tokens; it is not meant for anything cryptographic.
 */
export class SeededRandom {
    private state: number;

    constructor(seed: number) {
        this.state = normaliseSeed(seed);
    }

    /** Restarts the sequence as if freshly constructed with `seed`. */
    reset(seed: number): void {
        this.state = normaliseSeed(seed);
    }

    /** Next raw 32-bit output as an unsigned integer. */
    nextUint32(): number {
        this.state = (this.state + 0x9e3779b9) | 0;
        let z = this.state;
        z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
        z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
        z ^= z >>> 16;
        return z >>> 0;
    }

    /**
     * Uniform double in [0, 1) with 53 random bits. Two 32-bit draws are combined because a single
     * one only resolves probabilities down to ~2e-10, and tail tokens can be rarer than that.
     */
    next(): number {
        const high = this.nextUint32() >>> 5; // 27 bits
        const low = this.nextUint32() >>> 6; // 26 bits
        return (high * 67108864 + low) / 9007199254740992;
    }
}

function normaliseSeed(seed: number): number {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
        throw new RangeError(`SeededRandom seed must be an unsigned 32-bit integer, got ${seed}`);
    }
    return seed | 0;
}
