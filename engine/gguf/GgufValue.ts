/**
 * Typed GGUF metadata values.
 *
 * GGUF stores every metadata value with an explicit type code, and llama.cpp checks those codes
 * (`general.alignment` must be uint32, `llama.block_count` an unsigned integer, …). So a value is a
 * `{type, value}` pair here, both when read and when written, and a file read then written keeps
 * its exact types. 64-bit integers are `bigint` so that no value is rounded.
 */

/** Metadata types whose values are JavaScript numbers. */
export type GgufNumberType = "uint8" | "int8" | "uint16" | "int16" | "uint32" | "int32" | "float32" | "float64";
/** Metadata types whose values are `bigint`. */
export type GgufBigIntType = "uint64" | "int64";
/** Every metadata type; `array` items carry their own item type. */
export type GgufValueType = GgufNumberType | GgufBigIntType | "bool" | "string" | "array";

/** An array value. Arrays may nest: each inner array has its own item type and length. */
export type GgufArray =
    | { type: "array"; itemType: GgufNumberType; value: number[] }
    | { type: "array"; itemType: GgufBigIntType; value: bigint[] }
    | { type: "array"; itemType: "bool"; value: boolean[] }
    | { type: "array"; itemType: "string"; value: string[] }
    | { type: "array"; itemType: "array"; value: GgufArray[] };

/** One metadata value with its GGUF type. */
export type GgufValue =
    | { type: GgufNumberType; value: number }
    | { type: GgufBigIntType; value: bigint }
    | { type: "bool"; value: boolean }
    | { type: "string"; value: string }
    | GgufArray;

/** The on-disk type codes (`enum gguf_type` in llama.cpp's `gguf.h`). */
export const GGUF_TYPE_CODES: Readonly<Record<GgufValueType, number>> = {
    uint8: 0,
    int8: 1,
    uint16: 2,
    int16: 3,
    uint32: 4,
    int32: 5,
    float32: 6,
    bool: 7,
    string: 8,
    array: 9,
    uint64: 10,
    int64: 11,
    float64: 12
};

const TYPES_BY_CODE: readonly GgufValueType[] = (Object.keys(GGUF_TYPE_CODES) as GgufValueType[]).sort(
    (a, b) => GGUF_TYPE_CODES[a] - GGUF_TYPE_CODES[b]
);

/** The metadata type for an on-disk code, or `undefined` for an unknown code. */
export function ggufTypeFromCode(code: number): GgufValueType | undefined {
    return TYPES_BY_CODE[code];
}

/** Byte size of a fixed-size scalar type; `undefined` for `string` and `array`. */
export function ggufScalarSize(type: GgufValueType): number | undefined {
    switch (type) {
        case "uint8":
        case "int8":
        case "bool":
            return 1;
        case "uint16":
        case "int16":
            return 2;
        case "uint32":
        case "int32":
        case "float32":
            return 4;
        case "uint64":
        case "int64":
        case "float64":
            return 8;
        case "string":
        case "array":
            return undefined;
    }
}

/** True for the integer types (whatever their width or sign). */
export function isGgufIntegerType(type: GgufValueType): type is Exclude<GgufNumberType, "float32" | "float64"> | GgufBigIntType {
    return type !== "float32" && type !== "float64" && type !== "bool" && type !== "string" && type !== "array";
}

/** Item counts of arrays decoded on demand (see lazyGgufArray). */
const lazyLengths = new WeakMap<GgufArray, number>();

/**
 * An array whose items are decoded on the first read of `value` (the reader's choice for long
 * arrays). It looks and compares like any other GgufArray.
 */
export function lazyGgufArray(itemType: GgufValueType, count: number, decode: () => GgufArray["value"]): GgufArray {
    let decoded: GgufArray["value"] | undefined;
    const array = {
        type: "array",
        itemType,
        get value() {
            decoded ??= decode();
            return decoded;
        }
    } as GgufArray;
    lazyLengths.set(array, count);
    return array;
}

/** The number of items of an array, without decoding a lazily read one. */
export function ggufArrayLength(array: GgufArray): number {
    return lazyLengths.get(array) ?? array.value.length;
}
