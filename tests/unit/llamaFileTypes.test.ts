// The file-type table Tiller reads model headers with (engine/gguf/llamaFileTypes.ts) names every
// value exactly as node-llama-cpp's GgufFileType does, and has no value that enum lacks.
import { GgufFileType } from "node-llama-cpp";
import { describe, expect, it } from "vitest";
import { LLAMA_FILE_TYPE_NAMES } from "../../engine/gguf/llamaFileTypes.js";

describe("llama.cpp file-type names", () => {
    it("match node-llama-cpp's GgufFileType, value for value", () => {
        const theirs = Object.entries(GgufFileType).filter((entry): entry is [string, number] => typeof entry[1] === "number");
        expect(theirs.length).toBeGreaterThan(30);
        expect(Object.fromEntries(theirs.map(([name, value]) => [value, name]))).toEqual(LLAMA_FILE_TYPE_NAMES);
    });
});
