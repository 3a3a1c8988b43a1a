// `node --import tests/support/forbidNodeLlamaCpp.mjs ...`: makes loading node-llama-cpp's main
// module (or its Llama / getLlama modules) an error in that process. A CLI run that succeeds under
// it provably never loaded node-llama-cpp's JavaScript (tests/engine/directStart.test.ts).
// Resolving the package (import.meta.resolve, to find its folder) stays allowed; loading is not.
import { register } from "node:module";

const hooks = `
const forbidden = /\\/node-llama-cpp\\/dist\\/(index|bindings\\/Llama|bindings\\/getLlama)\\.js$/;
export async function load(url, context, nextLoad) {
    if (forbidden.test(url))
        throw new Error("node-llama-cpp's JavaScript was loaded: " + url);
    return nextLoad(url, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);
