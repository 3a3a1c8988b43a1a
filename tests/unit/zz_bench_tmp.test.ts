import { it } from "vitest";
import { TokenSampler } from "/work/main/engine/runtime/sampling/TokenSampler.js";
import { resolveSamplingOptions } from "/work/main/engine/runtime/sampling/SamplingOptions.js";
import { computeTokenStatistics } from "/work/main/engine/runtime/sampling/TokenStatistics.js";
it("bench", () => {
  const l = new Float32Array(128_000); for (let i = 0; i < l.length; i++) l[i] = Math.random() * 20 - 10 + (i % 1000 === 0 ? 8 : 0);
  for (const o of [{temperature:0},{temperature:1},{temperature:1,topK:0},{temperature:1,topK:0,minP:0},{temperature:1,topK:0,minP:0,topP:0.5}]) {
    const s = new TokenSampler(resolveSamplingOptions(o));
    for (let i=0;i<50;i++) s.sample(l);
    const t=performance.now(); for (let i=0;i<500;i++) s.sample(l); console.log(JSON.stringify(o), ((performance.now()-t)/500).toFixed(3),"ms");
  }
  const t=performance.now(); for (let i=0;i<500;i++) computeTokenStatistics(l,10); console.log("stats", ((performance.now()-t)/500).toFixed(3),"ms");
});
