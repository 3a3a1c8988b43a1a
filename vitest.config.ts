import { defineConfig } from "vitest/config";

export default defineConfig({
    test: {
        include: ["tests/**/*.test.ts"],
        // Engine tests load real models through llama.cpp; one worker at a time keeps a 2-core
        // machine from oversubscribing its cores (every context already runs its own threads).
        pool: "forks",
        maxWorkers: 1,
        fileParallelism: false,
        testTimeout: 60_000,
        hookTimeout: 60_000
    }
});
