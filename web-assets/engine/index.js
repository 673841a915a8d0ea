// The browser engine of the static site: what a figure page asks the server for, computed from
// the exported data (the bundle's entry; `window.ctsiteEngine` in a page).
//
//   const site = await openSite(indexUrl, {fetch})   // the data index and the shared tables
//   await site.figure(name, query)  → {status: 200, document, table} — the document is the JSON
//                                     the server's /api/figure/<name> answers — or
//                                     {status: 400, error, hint} for a bad parameter
//   site.csv(name, params, table, pageUrl, base) → the text of the server's /api/data/<name>.csv
//                                     (`base`: the page's base_provenance fields)
//   site.fileStem(name, params)            → the download's file name without its extension
//   site.genes(prefix)                     → what /api/genes?q= answers
//
// Every figure is the port of its Python builder (ctsite/figures/); the conformance suite
// (tests/engine/) holds the two equal.

import * as circos from "./circos.js";
import { toCsv } from "./csv.js";
import { csvHeader, downloadStem, provenance } from "./downloads.js";
import * as effects from "./effects.js";
import * as pairwise from "./pairwise.js";
import { BadParameter, parseParams } from "./params.js";
import { pyFloatRepr, pyStrip } from "./py.js";
import { NEEDS, NotLoaded, openStore } from "./store.js";

const BUILDERS = { circos: circos.build, pairwise: pairwise.build, effects: effects.build };
// A build stopped by rows of ligand effects not fetched yet is run again once they are: at
// most once per propagation step (steps ≤ 5), so more rounds than this is a bug.
const MAX_ROUNDS = 12;

/** Python's `json.dumps` of a string (ensure_ascii: every non-ASCII character escaped). */
function jsonString(text) {
  let out = '"';
  for (const ch of String(text)) {
    const cp = ch.codePointAt(0);
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\b") out += "\\b";
    else if (ch === "\f") out += "\\f";
    else if (cp < 0x20 || cp > 0x7e) {
      for (let k = 0; k < ch.length; k++) out += `\\u${ch.charCodeAt(k).toString(16).padStart(4, "0")}`;
    } else out += ch;
  }
  return `${out}"`;
}

/** precomputed.canonical_key: the parameters as Python's `json.dumps(sort_keys=True)` writes
 * them, compactly (a float control's value as a float: 10.0, an int control's as 10). */
export function canonicalKey(params, kinds) {
  const value = (v, kind) => {
    if (v === null || v === undefined) return "null";
    if (typeof v === "boolean") return v ? "true" : "false";
    if (typeof v === "number") return kind === "int" ? String(v) : pyFloatRepr(v);
    if (Array.isArray(v)) return `[${v.map((x) => value(x, kind)).join(",")}]`;
    return jsonString(v);
  };
  const keys = Object.keys(params).sort();
  return `{${keys.map((k) => `${jsonString(k)}:${value(params[k], kinds[k])}`).join(",")}}`;
}

export class Site {
  constructor(store) {
    this.store = store;
    this.spec = store.spec;
  }

  controls(name) {
    return this.spec.figures[name].controls;
  }

  kinds(name) {
    return Object.fromEntries(this.controls(name).map((c) => [c.name, c.kind]));
  }

  /** One figure's document for a query (a query string, URLSearchParams or object). */
  async figure(name, query) {
    if (!(name in BUILDERS)) return { status: 404, error: `no figure ${name}` };
    let params;
    try {
      params = parseParams(name, this.store, query);
    } catch (error) {
      if (error instanceof BadParameter || error.name === "NotFoundError") {
        return { status: 400, error: error.message, hint: error.hint ?? null };
      }
      throw error;
    }
    await this.store.prepare(params.condition, NEEDS[name]);
    const result = await this._build(name, params);
    const document = {
      name,
      params,
      params_key: canonicalKey(params, this.kinds(name)),
      fingerprint: this.store.fingerprint,
      message: result.message,
      figure: result.figure,
    };
    // what the page's script reads: the figure and its message, and the rows `csv()` writes
    // only when a CSV is asked for (not on every control change)
    return {
      status: 200,
      document,
      params,
      get table() {
        return result.table; // (a builder may make it when it is read)
      },
      figure: result.figure,
      message: result.message,
    };
  }

  /** A figure's builder on the store; when it stops at data fetched on demand (`NotLoaded`: rows
   * of ligand effects), fetch what it named and build again — a pure function of the store's
   * data, so the last run is the answer. */
  async _build(name, params) {
    for (let round = 1; ; round += 1) {
      try {
        return BUILDERS[name](this.store, params);
      } catch (error) {
        if (!(error instanceof NotLoaded) || round >= MAX_ROUNDS) throw error;
        await this.store.load(error.needed);
      }
    }
  }

  /** The gene search (/api/genes?q=): genes starting with the query (case-insensitive), then
   * genes containing it, at most the spec's `gene_results`. */
  genes(query) {
    const limits = this.spec.limits;
    if (String(query).length > limits.gene_query_max) return [];
    const q = pyStrip(String(query)).toLowerCase();
    const index = this.store.genes.map((gene) => [gene.toLowerCase(), gene]);
    const starts = index.filter(([low]) => low.startsWith(q)).map(([, gene]) => gene);
    if (starts.length >= limits.gene_results) return starts.slice(0, limits.gene_results);
    const contains = index.filter(([low]) => low.includes(q) && !low.startsWith(q)).map(([, g]) => g);
    return [...starts, ...contains].slice(0, limits.gene_results);
  }

  /** The CSV of a view: its provenance lines, then the table as pandas writes it. */
  csv(name, params, table, pageUrl, base) {
    const figure = this.spec.figures[name];
    const fields = provenance(figure.title, base, this.controls(name), params, pageUrl);
    return csvHeader(fields) + toCsv(table);
  }

  /** The file name (no extension) of a view's downloads. */
  fileStem(name, params) {
    const condition = this.store.condition(String(params.condition));
    return downloadStem(name, this.controls(name), condition.label, params);
  }
}

/** Open the exported site's data (`indexUrl`: its `data/store.<hash>.json`). */
export async function openSite(indexUrl, options = {}) {
  return new Site(await openStore(indexUrl, options));
}
