// The engine in Node for the conformance tests: reads {index, prepare_all, calls} as JSON on
// stdin (index: a path to a data index, or null for the text helpers alone), prints the results
// of tests/engine/calls.mjs as JSON on stdout ({open_error} when the index cannot be opened).
// Files are read from disk through a fetch-like function, the way a page reads them over HTTP.

import { readFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";

import { openStore } from "../../web-assets/engine/store.js";
import { runCalls } from "./calls.mjs";

function response(status, bytes) {
  return {
    ok: status === 200,
    status,
    arrayBuffer: async () => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
    text: async () => new TextDecoder().decode(bytes),
  };
}

/** fetch() for file: URLs. */
async function fileFetch(url) {
  try {
    return response(200, await readFile(new URL(url)));
  } catch {
    return response(404, new Uint8Array());
  }
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const request = JSON.parse(Buffer.concat(chunks).toString("utf8"));
let store = null;
if (request.index) {
  try {
    store = await openStore(pathToFileURL(request.index).href, { fetch: fileFetch });
  } catch (error) {
    const { name, message, hint, reason } = error;
    process.stdout.write(JSON.stringify({ open_error: { type: name, message, hint, reason } }));
    process.exit(0);
  }
  if (request.prepare_all) await store.prepareAll();
}
process.stdout.write(JSON.stringify(await runCalls(store, request.calls)));
