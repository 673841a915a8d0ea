// The engine's figures in Node for the conformance suite: reads {index, cases: [{figure, query}]}
// as JSON on stdin ({genes: q}: the gene search), prints for each case what a static page would get — {status, document, csv}
// (csv: the table as pandas writes it, without the provenance lines) or {status, error, hint}.
// Files are read from disk through a fetch-like function, the way a page reads them over HTTP.

import { readFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";

import { toCsv } from "../../web-assets/engine/csv.js";
import { openSite } from "../../web-assets/engine/index.js";

async function fileFetch(url) {
  try {
    const bytes = await readFile(new URL(url));
    return {
      ok: true,
      status: 200,
      arrayBuffer: async () => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
      text: async () => new TextDecoder().decode(bytes),
    };
  } catch {
    return { ok: false, status: 404, arrayBuffer: async () => new ArrayBuffer(0), text: async () => "" };
  }
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const request = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const site = await openSite(pathToFileURL(request.index).href, { fetch: fileFetch });
const out = [];
for (const { figure, query, genes } of request.cases) {
  if (genes !== undefined) {
    out.push({ genes: site.genes(genes) });
    continue;
  }
  try {
    const answer = await site.figure(figure, new URLSearchParams(query));
    if (answer.status !== 200) out.push({ status: answer.status, error: answer.error, hint: answer.hint });
    else out.push({ status: 200, document: answer.document, csv: toCsv(answer.table) });
  } catch (error) {
    out.push({ status: 500, error: `${error.name}: ${error.message}`, stack: error.stack });
  }
}
// NaN → null as Python's encoder writes it (the documents are compared as JSON)
process.stdout.write(JSON.stringify(out, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v)));
