// The CLI starts llama.cpp's backend before its modules load (engine/cli/prestartBackend.ts); the
// choice must be the one the command makes itself: no GPU backend for --gpu-layers 0 unless
// $TILLER_GPU names one, the default otherwise.
import { afterEach, describe, expect, it } from "vitest";
import { backendChoiceForCommand } from "../../engine/cli/prestartBackend.js";

describe("backendChoiceForCommand", () => {
    const saved = process.env.TILLER_GPU;
    afterEach(() => {
        if (saved == null)
            delete process.env.TILLER_GPU;
        else
            process.env.TILLER_GPU = saved;
    });

    it("asks for the CPU backend only when no layer goes to the GPU", () => {
        delete process.env.TILLER_GPU;
        expect(backendChoiceForCommand(["-m", "x.gguf", "--gpu-layers", "0"])).toEqual({ gpu: false });
        expect(backendChoiceForCommand(["--gpu-layers=0", "-m", "x.gguf"])).toEqual({ gpu: false });
        expect(backendChoiceForCommand(["-m", "x.gguf"])).toEqual({});
        expect(backendChoiceForCommand(["--gpu-layers", "auto"])).toEqual({});
        expect(backendChoiceForCommand(["--gpu-layers", "12"])).toEqual({});
        expect(backendChoiceForCommand(["--gpu-layers"])).toEqual({});
    });

    it("leaves the choice to $TILLER_GPU when it is set", () => {
        process.env.TILLER_GPU = "vulkan";
        expect(backendChoiceForCommand(["--gpu-layers", "0"])).toEqual({});
    });
});
