// No import cycles in the house (issue 17): every relative import between the project's own
// modules — type-only imports included, as a reader follows them — forms a graph without cycles.
// The scan is textual (import/export … from "./x.js", import("./x.js")), which is enough for this
// codebase's one import style; the detector itself is checked on a graph that has a cycle.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "..", "..");
const scannedFolders = ["engine", "renderer/src", "electron", "bench"];
const importPattern = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*["'](\.{1,2}\/[^"']+)["']|import\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g;

function sourceFiles(folder: string): string[] {
    const out: string[] = [];
    for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
        const full = path.join(folder, entry.name);
        if (entry.isDirectory()) {
            if (entry.name !== "node_modules" && entry.name !== "build")
                out.push(...sourceFiles(full));
        } else if (/\.(ts|tsx)$/.test(entry.name) && !entry.name.endsWith(".d.ts")) {
            out.push(full);
        }
    }
    return out;
}

/** "./x.js" as written in an ESM import → the .ts/.tsx file it names, or null (an asset, a JSON file). */
function resolveImport(from: string, specifier: string): string | null {
    const base = path.resolve(path.dirname(from), specifier);
    const stem = base.replace(/\.(js|jsx|mjs|cjs)$/, "");
    for (const candidate of [`${stem}.ts`, `${stem}.tsx`, path.join(base, "index.ts"), path.join(base, "index.tsx")])
        if (fs.existsSync(candidate))
            return candidate;
    return null;
}

function importGraph(files: string[]): Map<string, string[]> {
    const graph = new Map<string, string[]>();
    for (const file of files) {
        const text = fs.readFileSync(file, "utf8");
        const targets = new Set<string>();
        for (const match of text.matchAll(importPattern)) {
            const target = resolveImport(file, (match[1] ?? match[2])!);
            if (target != null)
                targets.add(target);
        }
        graph.set(file, [...targets]);
    }
    return graph;
}

/** One cycle per strongly connected component of more than one module (or a module importing itself). */
function findCycles(graph: Map<string, string[]>): string[][] {
    let nextIndex = 0;
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const onStack = new Set<string>();
    const stack: string[] = [];
    const cycles: string[][] = [];
    const visit = (node: string): void => {
        index.set(node, nextIndex);
        low.set(node, nextIndex);
        nextIndex++;
        stack.push(node);
        onStack.add(node);
        for (const next of graph.get(node) ?? []) {
            if (!index.has(next)) {
                visit(next);
                low.set(node, Math.min(low.get(node)!, low.get(next)!));
            } else if (onStack.has(next)) {
                low.set(node, Math.min(low.get(node)!, index.get(next)!));
            }
        }
        if (low.get(node) === index.get(node)) {
            const component: string[] = [];
            let member: string;
            do {
                member = stack.pop()!;
                onStack.delete(member);
                component.push(member);
            } while (member !== node);
            if (component.length > 1 || (graph.get(node) ?? []).includes(node))
                cycles.push(component.reverse());
        }
    };
    for (const node of graph.keys())
        if (!index.has(node))
            visit(node);
    return cycles;
}

describe("import cycles", () => {
    it("the detector finds a cycle, and only the modules in it", () => {
        const graph = new Map([
            ["a", ["b"]],
            ["b", ["c"]],
            ["c", ["a", "d"]],
            ["d", []],
            ["e", ["e"]]
        ]);
        expect(findCycles(graph).map((cycle) => [...cycle].sort())).toEqual([["a", "b", "c"], ["e"]]);
        expect(findCycles(new Map([["a", ["b"]], ["b", []]]))).toEqual([]);
    });

    it("the scan sees the project's imports, type-only ones included", () => {
        const graph = importGraph([path.join(root, "engine", "runtime", "TillerContext.ts")]);
        const targets = graph.get(path.join(root, "engine", "runtime", "TillerContext.ts"))!.map((file) => path.relative(root, file));
        expect(targets).toContain(path.join("engine", "runtime", "loadedModel.ts")); // `import type`
        expect(targets).toContain(path.join("engine", "protocol", "TillerError.ts"));
    });

    it("engine, renderer, electron and bench import each other without cycles", () => {
        const files = scannedFolders.flatMap((folder) => sourceFiles(path.join(root, folder)));
        expect(files.length).toBeGreaterThan(200);
        const cycles = findCycles(importGraph(files)).map((cycle) => cycle.map((file) => path.relative(root, file)).join(" → "));
        expect(cycles).toEqual([]);
    });
});
