// The CSV behind the probe plots: RFC 4180 quoting of token pieces (spaces at the edges, commas,
// quotes, line breaks), one row per token, and the probes requests' schemas at the RPC boundary.
import { describe, expect, it } from "vitest";
import { probesDetectSchema, probesSweepSchema, type ProbesSweepResult } from "../../engine/protocol/EngineContract.js";
import { toCsv } from "../../renderer/src/lib/exportPlot.js";
import { alphaCurvesCsv, chiCsv, heatmapCsv, pathFreeEnergyCsv } from "../../renderer/src/views/probes/probeCsv.js";

const sweep: ProbesSweepResult = {
    sweepId: "s", prompt: "p", completion: " a, \"b\"\n", vectorId: "v", vectorName: "v", alphas: [-1, 0, 1], alpha0: 0, fromToken: 0, step: 0.01,
    stepRule: "fixed", relativeStep: 0.02, layerSteps: { 2: 0.01, 3: 0.01 }, residualNorms: { 2: 0, 3: 0 },
    layers: { first: 2, last: 3 }, vectorNorms: { 2: 1, 3: 1 }, totalChi: 0.5, totalChiError: 0.01,
    pathFreeEnergy: [-5, -7, -9], alphaML: { alpha: -1, value: -5, onEdge: true },
    decodes: { prefix: 1, suffix: 7, suffixTokens: 21, prefixTokens: 4 }, elapsedMs: 1,
    tokens: [
        { index: 0, id: 10, piece: " a,", logprobs: [-1, -2, -3], entropies: [1, 1, 1], chi: 0.25, chiError: 0.001, curvature: -0.5, entropyResponse: 0.1,
            fisher: 0.5, fdtGap: 1e-4, fdtGapError: 2e-4, chiPerLayer: [0.1, 0.15] },
        { index: 1, id: 11, piece: " \"b\"\n", logprobs: [-4, -5, -6], entropies: [1, 1, 1], chi: 0.25, chiError: 0.002, curvature: 0, entropyResponse: -0.1,
            fisher: null, fdtGap: null, fdtGapError: null, chiPerLayer: [0.2, 0.05] }
    ]
};

describe("probe CSV exports", () => {
    it("quotes pieces with commas, quotes, line breaks or edge spaces, and only those", () => {
        expect(toCsv(["a", "b"], [["plain", 1.5], [" lead", "x,y"], ["q\"uote", "line\nbreak"], [null, Number.NaN]]))
            .toBe("a,b\r\nplain,1.5\r\n\" lead\",\"x,y\"\r\n\"q\"\"uote\",\"line\nbreak\"\r\n,\r\n");
    });

    it("writes one row per token for χ, the α-curves of the selected tokens, and χ per layer", () => {
        expect(chiCsv(sweep)).toBe("index,id,piece,chi,chi_error,curvature,entropy_response,fisher,fdt_gap,fdt_gap_error\r\n" +
            "0,10,\" a,\",0.25,0.001,-0.5,0.1,0.5,0.0001,0.0002\r\n1,11,\" \"\"b\"\"\n\",0.25,0.002,0,-0.1,,,\r\n");
        expect(pathFreeEnergyCsv(sweep)).toBe("alpha,path_free_energy\r\n-1,-5\r\n0,-7\r\n1,-9\r\n");
        // a sweep from token K lists tokens from index K: selections are by index, not position
        const later = { ...sweep, fromToken: 1, tokens: sweep.tokens.slice(1) };
        expect(alphaCurvesCsv(later, [1])).toBe(alphaCurvesCsv(sweep, [1]));
        expect(alphaCurvesCsv(sweep, [1])).toBe("alpha,\"logp[1]  \"\"b\"\"\n\"\r\n-1,-4\r\n0,-5\r\n1,-6\r\n");
        expect(heatmapCsv(sweep).split("\r\n")[0]).toBe("index,piece,chi_L2,chi_L3");
        expect(heatmapCsv(sweep).split("\r\n")[1]).toBe("0,\" a,\",0.1,0.15");
    });
});

describe("probes request schemas", () => {
    it("take a typed text or a run id, and refuse an empty or non-finite α grid", () => {
        expect(probesSweepSchema.safeParse({ runId: "r", vectorId: "v", alphas: [0] }).success).toBe(true);
        expect(probesSweepSchema.safeParse({ prompt: "p", completion: "c", vectorId: "v", alphas: [] }).success).toBe(false);
        expect(probesSweepSchema.safeParse({ prompt: "p", completion: "c", vectorId: "v", alphas: [Infinity] }).success).toBe(false);
        expect(probesSweepSchema.safeParse({ prompt: "p", completion: "c", vectorId: "v", alphas: [0], step: 0 }).success).toBe(false);
        expect(probesDetectSchema.safeParse({ runId: "r", reference: { patches: [{ id: "x", vectorId: "v", strength: 1 }] } }).success).toBe(true);
        expect(probesDetectSchema.safeParse({ runId: "r", patches: [{ id: "x", vectorId: "v", strength: Number.NaN }] }).success).toBe(false);
    });
});
