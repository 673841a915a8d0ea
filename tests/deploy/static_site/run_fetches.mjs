// The browser engine in Node, counting what it fetches: reads {index, cases: [{figure, query}]}
// as JSON on stdin, opens the exported site's data index through a fetch-like function that
// records every file it is asked for (by its name in data/), and prints one result per step —
// first the opening, then each case — as {status, error?, reason?, fetched: [names], bytes}:
// what a page would fetch from the host for that view (each file once, as the engine caches it).

import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

import { openSite } from "../../../web-assets/engine/index.js";

let fetched = [];
let bytes = 0;

async function countingFetch(url) {
  fetched.push(basename(fileURLToPath(url)));
  try {
    const data = await readFile(new URL(url));
    bytes += data.length;
    return {
      ok: true,
      status: 200,
      arrayBuffer: async () => data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
      text: async () => new TextDecoder().decode(data),
    };
  } catch {
    return { ok: false, status: 404, arrayBuffer: async () => new ArrayBuffer(0), text: async () => "" };
  }
}

function take(result) {
  const out = { ...result, fetched, bytes };
  fetched = [];
  bytes = 0;
  return out;
}

function failure(error) {
  return { status: 500, error: `${error.name}: ${error.message}`, reason: error.reason ?? null };
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const request = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const out = [];
let site = null;
try {
  site = await openSite(pathToFileURL(request.index).href, { fetch: countingFetch });
  out.push(take({ status: 200 }));
} catch (error) {
  out.push(take(failure(error)));
}
for (const { figure, query } of site ? request.cases : []) {
  try {
    const answer = await site.figure(figure, new URLSearchParams(query));
    out.push(take({ status: answer.status, error: answer.error ?? null, edges: answer.table?.length ?? null }));
  } catch (error) {
    out.push(take(failure(error)));
  }
}
process.stdout.write(JSON.stringify(out));
