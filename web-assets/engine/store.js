// The static site's store reader: the browser's ctsite/store/reader.py.
//
// It opens the exported site's data index (data/store.<hash>.json: the store version's manifest,
// where each store file (by its own relative path) is in data/ — whole, with smaller projections
// of some of its columns, or for the ligand-effects arrays in blocks of rows
// (ctsite/deploy/static_site/data.py says the layout) —, the study's identity, the figure defaults and the figures' spec) through an
// injected fetch-like function, reads the uncompressed Arrow IPC tables (apache-arrow) and .npy
// arrays (npy.js) it names, and
// offers the figure-facing methods of the Python `Store`, under the same names (snake_case, so
// the figure modules ported from Python read the same), with the same results:
//
//   tables are `Frame`s (frame.js) with the DataFrame's columns, dtypes and row order;
//   lists are arrays; a condition is {id, name, label, kind, of};
//   errors are StoreError / NotFoundError with Python's message and hint texts.
//
// Loading is asynchronous, the methods synchronous:
//
//   const store = await openStore(indexUrl, {fetch});  // the index, genes and the L–R list
//   await store.prepare("highCIN_vs_lowCIN");           // that condition's files (or some of
//                                                       //   them: prepare(c, ["circos"]))
//   store.circos_table("highCIN_vs_lowCIN", 0.05);      // then synchronous, like Python
//
// A method that needs a file not yet prepared throws a StoreError saying which `prepare` call
// is missing (a bug of the caller, not of the data). A page's Ligand-effects view reads a few of
// the condition's rows of effects: `prepare(c, ["effects_lazy"])` fetches no row, and a method
// reading one not fetched yet throws `NotLoaded` (a StoreError) naming the blocks to fetch —
// `await store.load(error.needed)`, then call again (index.js's Site does). Each file is
// fetched once; its SHA-256 is
// checked against its content name where the browser offers Web Crypto (`crypto.subtle`: every
// https page, and http://localhost), so a file damaged on the host or on the way is an error
// naming it, never a wrong figure. The store's file names and column prefixes come from the
// index's spec (`store`: ctsite/figures/browser_spec.py), not from this file.

import { tableFromIPC, Type } from "apache-arrow";

import { Frame, takeValues } from "./frame.js";
import { readNpy } from "./npy.js";
import {
  floatOrNull as pyFloat,
  formatF as formatFixed,
  pyCompare,
  pyFloatRepr,
  pyRepr,
  pySorted,
} from "./py.js";

export const INDEX_VERSION = 2;
const CONDITION_ID = /^c[0-9]{1,4}$/;
const CONTENT_NAME = /^([0-9a-f]{64})(\.[a-z]{1,8})?$/;
const REPAIR_HINT = "export the site again (ctsite export-site) and upload all of its files";

/** What a figure needs of a condition: `prepare(condition, NEEDS[figure])` (see `prepare`). The
 * Ligand-effects figure's rows come on demand: its builder may stop with `NotLoaded`. */
export const NEEDS = {
  circos: ["circos"],
  pairwise: ["circos", "pairs"],
  effects: ["effects_lazy"],
};
const ALL_NEEDS = ["circos", "pairs", "effects"];
const KNOWN_NEEDS = [...ALL_NEEDS, "effects_lazy"];

/** ctsite.errors.StoreError: the data is missing, damaged or lacks what was asked for. */
export class StoreError extends Error {
  constructor(message, hint = null, reason = "store-unavailable") {
    super(message);
    this.name = "StoreError";
    this.message = message;
    this.hint = hint;
    this.reason = reason;
  }
}

/** ctsite.errors.NotFoundError: a name (condition, cell type, gene) the store does not know. */
export class NotFoundError extends StoreError {
  constructor(message, hint = null) {
    super(message, hint, "not-found");
    this.name = "NotFoundError";
  }
}

/** A synchronous method met rows of ligand effects the store has not fetched (it was prepared
 * with "effects_lazy"): `await store.load(error.needed)` and call it again. A StoreError, so a
 * caller that does not expect it still fails with a clear message. */
export class NotLoaded extends StoreError {
  constructor(needed, what) {
    super(
      `${what} not loaded yet: await store.load(error.needed), or ` +
        'store.prepare(condition, ["effects"]) for every row',
      null,
      "not-loaded",
    );
    this.name = "NotLoaded";
    this.needed = needed; // [{condition: id, block: k}]
  }
}

/** reader._choices: the first `limit` names, repr'd, and how many more. */
export function choices(values, limit = 12) {
  const shown = values.slice(0, limit).map(pyRepr).join(", ");
  return shown + (values.length > limit ? `, … (${values.length - limit} more)` : "");
}

/** Python's round() of a float to an integer (ties to even). */
function pyRound(x) {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** format.count_column: ("numDEG", 0.05) → "numDEG_t05". */
export function countColumn(prefix, t) {
  return `${prefix}_t${String(pyRound(t * 100)).padStart(2, "0")}`;
}

function sameFloat(a, b) {
  return Math.abs(a - b) < 1e-9;
}

/** An index URL made absolute (a page gives it relative to itself). */
function absoluteUrl(url) {
  const base = globalThis.location ? globalThis.location.href : undefined;
  return new URL(url, base).href;
}

async function sha256Hex(bytes) {
  const subtle = globalThis.crypto && globalThis.crypto.subtle;
  if (!subtle) return null;
  const digest = new Uint8Array(await subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

// ------------------------------------------------------------------ Arrow → Frame

const NUMPY_INT = { 8: "int8", 16: "int16", 32: "int32", 64: "int64" };

const TEXT = new TextDecoder("utf-8", { ignoreBOM: true }); // a leading BOM is text, not a mark

/** Whether row `i` of one chunk is valid (not null). */
function validIn(data, i) {
  const bitmap = data.nullBitmap;
  if (!data.nullCount || !bitmap || bitmap.length === 0) return true;
  const at = data.offset + i;
  return (bitmap[at >> 3] & (1 << (at & 7))) !== 0;
}

/** A Utf8/LargeUtf8 vector's strings, read from its buffers: one decode per chunk when the
 * chunk is ASCII (gene and cell-type names almost always are), else one per string. */
function textColumn(vector) {
  const out = new Array(vector.length);
  let k = 0;
  for (const data of vector.data) {
    const offsets = data.valueOffsets;
    const values = data.values;
    const n = data.length;
    const lo = Number(offsets[0]);
    const hi = Number(offsets[n]);
    let ascii = true;
    for (let j = lo; j < hi; j += 1) {
      if (values[j] > 0x7f) {
        ascii = false;
        break;
      }
    }
    const whole = ascii ? TEXT.decode(values.subarray(lo, hi)) : null;
    for (let i = 0; i < n; i += 1, k += 1) {
      if (!validIn(data, i)) {
        out[k] = null;
        continue;
      }
      const a = Number(offsets[i]);
      const b = Number(offsets[i + 1]);
      out[k] = ascii ? whole.slice(a - lo, b - lo) : TEXT.decode(values.subarray(a, b));
    }
  }
  return out;
}

/** A dictionary-encoded Utf8 vector's strings (how the export writes names): each chunk's
 * dictionary decoded once, then looked up by index (a `get` per row decoded the text again for
 * every row: ~10 ms of a study-scale condition's first view). */
function dictionaryTextColumn(vector) {
  const out = new Array(vector.length);
  let k = 0;
  for (const data of vector.data) {
    const words = textColumn(data.dictionary);
    const indices = data.values;
    for (let i = 0; i < data.length; i += 1, k += 1) {
      out[k] = validIn(data, i) ? words[indices[i]] : null;
    }
  }
  return out;
}

/** A Bool vector's values, read from its bit-packed buffer (null → null). */
function boolColumn(vector) {
  const out = new Array(vector.length);
  let k = 0;
  for (const data of vector.data) {
    const values = data.values;
    for (let i = 0; i < data.length; i += 1, k += 1) {
      const at = data.offset + i;
      out[k] = validIn(data, i) ? (values[at >> 3] & (1 << (at & 7))) !== 0 : null;
    }
  }
  return out;
}

function vectorColumn(vector) {
  const type = vector.type;
  const id = type.typeId;
  const n = vector.length;
  if (id === Type.Float) {
    const dtype = type.precision === 2 ? "float64" : type.precision === 1 ? "float32" : "float16";
    const out = Float64Array.from(vector.toArray());
    if (vector.nullCount > 0) for (let i = 0; i < n; i += 1) if (!vector.isValid(i)) out[i] = NaN;
    return [dtype === "float16" ? "float32" : dtype, out];
  }
  if (id === Type.Int) {
    const raw = vector.toArray();
    const out = new Float64Array(n);
    for (let i = 0; i < n; i += 1) out[i] = Number(raw[i]);
    if (vector.nullCount > 0) {
      // pandas reads an integer column with nulls as float64 with NaN
      for (let i = 0; i < n; i += 1) if (!vector.isValid(i)) out[i] = NaN;
      return ["float64", out];
    }
    const bits = type.bitWidth;
    return [type.isSigned ? NUMPY_INT[bits] : `u${NUMPY_INT[bits]}`, out];
  }
  if (id === Type.Bool) return [vector.nullCount > 0 ? "object" : "bool", boolColumn(vector)];
  if (id === Type.Utf8 || id === Type.LargeUtf8) return ["object", textColumn(vector)];
  const words = id === Type.Dictionary ? type.dictionary.typeId : null;
  if (words === Type.Utf8 || words === Type.LargeUtf8) return ["object", dictionaryTextColumn(vector)];
  const out = new Array(n);
  for (let i = 0; i < n; i += 1) {
    const v = vector.get(i);
    out[i] = v === null || v === undefined ? null : String(v);
  }
  return ["object", out];
}

/** An Arrow IPC file (or stream) as a Frame, columns in the file's order. */
export function frameFromIPC(bytes) {
  const table = tableFromIPC(bytes);
  const specs = table.schema.fields.map((field, i) => {
    const [dtype, values] = vectorColumn(table.getChildAt(i));
    return [field.name, dtype, values];
  });
  const frame = Frame.of(specs);
  frame.length = table.numRows;
  return frame;
}

// ------------------------------------------------------------------ the store

/**
 * Open the exported site's data index at `indexUrl` (relative to the page, or absolute) and
 * load what every figure needs (genes, the ligand–receptor list).
 * @param {string} indexUrl
 * @param {{fetch?: typeof fetch}} options
 */
export async function openStore(indexUrl, options = {}) {
  const fetcher = options.fetch || globalThis.fetch.bind(globalThis);
  const url = absoluteUrl(indexUrl);
  let index;
  try {
    const response = await fetcher(url);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    index = JSON.parse(await response.text());
  } catch (error) {
    throw new StoreError(
      `${url}: the site's data index cannot be read (${error.message})`,
      REPAIR_HINT,
      "manifest-unreadable",
    );
  }
  let store;
  try {
    store = new Store(index, url, fetcher);
  } catch (error) {
    if (error instanceof StoreError) throw error;
    throw new StoreError(
      `${url}: malformed data index (${error.message})`,
      REPAIR_HINT,
      "manifest-malformed",
    );
  }
  await store.prepare();
  return store;
}

export class Store {
  /**
   * @param {object} index the data index (see the module comment)
   * @param {string} indexUrl where it was read: its files are relative to its folder
   * @param {(url: string) => Promise<Response>} fetcher
   */
  constructor(index, indexUrl, fetcher) {
    if (!index || index.index_version !== INDEX_VERSION) {
      throw new StoreError(
        `${indexUrl}: data index version ${index && index.index_version}, this engine reads ` +
          `${INDEX_VERSION}`,
        REPAIR_HINT,
        "schema-unsupported",
      );
    }
    this.index = index;
    this.indexUrl = indexUrl;
    this.fetcher = fetcher;
    const manifest = index.manifest;
    this.manifest = manifest;
    this.spec = index.spec;
    this.names = index.spec.store;
    for (const key of ["files", "projections", "effects_rows"]) {
      const value = index[key];
      if (value === null || typeof value !== "object" || Array.isArray(value)) {
        throw new StoreError(`${indexUrl}: malformed data index (no ${key} object)`, REPAIR_HINT, "manifest-malformed");
      }
    }
    for (const [rel, list] of Object.entries(index.projections)) {
      if (!Array.isArray(list) || !list.every((p) => p && Array.isArray(p.columns) && typeof p.file === "string")) {
        throw new StoreError(`${indexUrl}: malformed data index (projections of ${pyRepr(rel)})`, REPAIR_HINT, "manifest-malformed");
      }
    }
    this.thresholds = manifest.thresholds.map(Number);
    this.cell_types = [...manifest.cell_types];
    this.cell_type_colors = { ...manifest.cell_type_colors };
    this.conditions = manifest.conditions.map((c) => {
      if (!CONDITION_ID.test(String(c.id))) {
        throw new StoreError(`${indexUrl}: invalid condition id ${pyRepr(String(c.id))} in the manifest`);
      }
      return Object.freeze({
        id: c.id,
        name: c.name,
        label: c.label,
        kind: c.kind,
        of: Object.freeze([...(c.of || [])]),
      });
    });
    this._byName = new Map();
    for (const c of this.conditions) this._byName.set(c.name, c);
    for (const c of this.conditions) this._byName.set(c.id, c);
    this._cellTypeSet = new Set(this.cell_types);
    this._bytes = new Map(); // name in data/ → Promise<Uint8Array>
    this._parsed = new Map(); // name in data/ → its Frame, npy values or block list
    this._blocks = new Map(); // "<condition id>/<block>" → that block's ligand-effects arrays
    this._rowMaps = new Map(); // condition id → where each row's effects are (_rowMap)
    this._pairs = new Map();
    this._rows = new Map();
    this._effects = new Map();
    this._cached = {};
  }

  // ---------------------------------------------------------------- loading

  /** The URL of a file of data/ (names are relative to the index's folder). */
  _url(name) {
    return new URL(name, this.indexUrl).href;
  }

  _unlisted(what) {
    return new StoreError(`${this.indexUrl}: the data index lists no ${what}`, REPAIR_HINT, "object-missing");
  }

  /** The content-named file in data/ of a store file exported whole (its path relative to the
   * version). */
  fileUrl(rel) {
    const name = this.index.files[rel];
    if (name === undefined) throw this._unlisted(`file ${pyRepr(rel)}`);
    return this._url(name);
  }

  /** The bytes of the data file `name`, fetched once and checked against its content name;
   * `what` says in errors which store data it holds. */
  _fetch(name, what) {
    if (!this._bytes.has(name)) {
      const promise = (async () => {
        const url = this._url(name);
        let bytes;
        try {
          const response = await this.fetcher(url);
          if (!response.ok) throw new Error(`HTTP ${response.status}`);
          bytes = new Uint8Array(await response.arrayBuffer());
        } catch (error) {
          throw new StoreError(`${url}: ${what}: absent (${error.message})`, REPAIR_HINT, "object-missing");
        }
        const expected = CONTENT_NAME.exec(name);
        if (expected) {
          const actual = await sha256Hex(bytes);
          if (actual !== null && actual !== expected[1]) {
            throw new StoreError(
              `${url}: ${what}: holds other bytes than its name says (SHA-256 ${actual})`,
              REPAIR_HINT,
              "object-changed",
            );
          }
        }
        return bytes;
      })();
      promise.catch(() => this._bytes.delete(name)); // a later call tries again
      this._bytes.set(name, promise);
    }
    return this._bytes.get(name);
  }

  _unreadable(name, what, error) {
    return new StoreError(
      `${this._url(name)}: ${what}: cannot be parsed (${error.name}: ${String(error.message).slice(0, 160)})`,
      REPAIR_HINT,
      "object-unreadable",
    );
  }

  /** Fetch the data file `name` and keep `parse(bytes)` of it (once per name). */
  async _load(name, what, parse) {
    if (this._parsed.has(name)) return;
    const bytes = await this._fetch(name, what);
    if (this._parsed.has(name)) return;
    let value;
    try {
      value = parse(bytes);
    } catch (error) {
      throw this._unreadable(name, what, error);
    }
    this._parsed.set(name, value);
  }

  /** A parsed data file, or the StoreError of a caller that did not prepare it. */
  _loaded(name, what) {
    const value = this._parsed.get(name);
    if (value === undefined) {
      throw new StoreError(`${what} is not loaded yet: await store.prepare(condition) first`);
    }
    return value;
  }

  /** The data file of the store table `rel` (its whole file). */
  _wholeName(rel) {
    const name = this.index.files[rel];
    if (name === undefined) throw this._unlisted(`file ${pyRepr(rel)}`);
    return name;
  }

  /** A projection of the table `rel` holding every one of `columns` (a smaller file), or null. */
  _projection(rel, columns) {
    if (columns === null) return null;
    const found = (this.index.projections[rel] ?? []).find((p) => columns.every((c) => p.columns.includes(c)));
    return found ?? null;
  }

  /** Fetch the store table `rel`, or a projection holding `columns` (unless the whole file is
   * already here). */
  async _loadTable(rel, columns = null) {
    const whole = this._wholeName(rel);
    const projection = this._projection(rel, columns);
    if (projection && !this._parsed.has(whole)) {
      await this._load(projection.file, `${rel} (its columns ${projection.columns.join(", ")})`, frameFromIPC);
    } else {
      await this._load(whole, rel, frameFromIPC);
    }
  }

  /** The store table `rel` (a Frame), or its `columns` only (from its whole file or a
   * projection holding them, whichever is here). */
  _frame(rel, columns = null) {
    let frame = this._parsed.get(this._wholeName(rel));
    if (frame === undefined) {
      const projection = this._projection(rel, columns);
      if (projection) frame = this._parsed.get(projection.file);
    }
    if (frame === undefined) {
      throw new StoreError(`${rel} is not loaded yet: await store.prepare(condition) first`);
    }
    return columns === null ? frame : frame.select(columns);
  }

  async _loadArray(rel) {
    const name = this.index.files[rel];
    if (name === undefined) throw this._unlisted(`file ${pyRepr(rel)}`);
    await this._load(name, rel, (bytes) => readNpy(bytes).values);
  }

  _array(rel) {
    const name = this.index.files[rel];
    if (name === undefined) throw this._unlisted(`file ${pyRepr(rel)}`);
    return this._loaded(name, rel);
  }

  _conditionFile(cond, name) {
    return `${this.names.conditions_dir}/${cond.id}/${name}`;
  }

  // ------------------------------------------- the ligand-effects rows, in blocks (on demand)

  _blocksWhat(cond) {
    return `${this.names.conditions_dir}/${cond.id}/effects_*.npy (the list of their row blocks)`;
  }

  /** Fetch a single condition's list of ligand-effects row blocks (effects_blocks.py). */
  async _loadBlockList(cond) {
    const name = this.index.effects_rows[cond.id];
    if (name === undefined) throw this._unlisted(`ligand-effects rows of the condition ${pyRepr(cond.name)}`);
    const wanted = [this.names.effect_genes, ...this.names.effect_layers.map((e) => e.file)];
    await this._load(name, this._blocksWhat(cond), (bytes) => blockList(JSON.parse(TEXT.decode(bytes)), wanted));
  }

  _blockList(cond) {
    const name = this.index.effects_rows[cond.id];
    if (name === undefined) throw this._unlisted(`ligand-effects rows of the condition ${pyRepr(cond.name)}`);
    return this._loaded(name, this._blocksWhat(cond));
  }

  /** Which store data block `k` holds, for errors: its condition's arrays and its rows. */
  _blockWhat(cond, list, k) {
    const spans = list.blocks[k].rows;
    const shown = spans.slice(0, 3).map(([a, b]) => (b - a === 1 ? `${a}` : `${a}–${b - 1}`));
    const more = spans.length > 3 ? ", …" : "";
    return `${this.names.conditions_dir}/${cond.id}/effects_*.npy block ${k} (rows ${shown.join(", ")}${more})`;
  }

  /** Where each row's effects are: its block and its first entry there (`rowBlock`,
   * `rowStart`), and each block's number of entries; checked once per condition (every row in
   * exactly one block). Needs the offsets and the block list. */
  _rowMap(cond) {
    if (!this._rowMaps.has(cond.id)) {
      const offsets = this._array(this._conditionFile(cond, this.names.effect_offsets));
      const list = this._blockList(cond);
      const n = Math.max(offsets.length - 1, 0);
      const rowBlock = new Int32Array(n).fill(-1);
      const rowStart = new Float64Array(n);
      const entries = new Float64Array(list.blocks.length);
      const bad = (why) =>
        new StoreError(`${this._blocksWhat(cond)}: ${why}`, REPAIR_HINT, "object-unreadable");
      list.blocks.forEach((block, k) => {
        let at = 0;
        for (const [a, b] of block.rows) {
          if (b > n) throw bad(`block ${k} names row ${b - 1}, the offsets hold ${n} rows`);
          for (let row = a; row < b; row += 1) {
            if (rowBlock[row] !== -1) throw bad(`row ${row} is in blocks ${rowBlock[row]} and ${k}`);
            rowBlock[row] = k;
            rowStart[row] = at;
            at += offsets[row + 1] - offsets[row];
          }
        }
        entries[k] = at;
      });
      const missing = rowBlock.indexOf(-1);
      if (missing !== -1) throw bad(`row ${missing} is in no block`);
      this._rowMaps.set(cond.id, { rowBlock, rowStart, entries });
    }
    return this._rowMaps.get(cond.id);
  }

  /** Fetch blocks `ks` of a single condition's ligand-effects rows (its offsets and block list
   * first), each checked: the arrays it must hold, as many entries as its rows. */
  async _loadBlocks(cond, ks) {
    await Promise.all([this._loadBlockList(cond), this._loadArray(this._conditionFile(cond, this.names.effect_offsets))]);
    const list = this._blockList(cond);
    const map = this._rowMap(cond);
    await Promise.all(
      ks.map(async (k) => {
        const key = `${cond.id}/${k}`;
        if (this._blocks.has(key)) return;
        const what = this._blockWhat(cond, list, k);
        const file = list.blocks[k].file;
        await this._load(file, what, frameFromIPC);
        try {
          this._blocks.set(key, blockValues(this._parsed.get(file), map.entries[k], this.names));
        } catch (error) {
          throw this._unreadable(file, what, error);
        }
      }),
    );
  }

  /** Fetch what a `NotLoaded` error named (`error.needed`): some rows of ligand effects. */
  async load(needed) {
    const byCondition = new Map();
    for (const { condition, block } of needed) {
      if (!byCondition.has(condition)) byCondition.set(condition, []);
      byCondition.get(condition).push(block);
    }
    await Promise.all([...byCondition].map(([c, ks]) => this._loadBlocks(this.condition(c), ks)));
  }

  // ------------------------------------------------------------------------ prepare

  /**
   * Fetch what the synchronous methods need: with no condition, the tables every figure reads
   * (genes, the ligand–receptor list); with one, also that condition's files for `needs`
   * (default: all; `NEEDS[figure]` for one figure). Fetched once, in parallel. The needs:
   *   "circos"        the circos table;
   *   "pairs"         the pairs table, the circos table and the expression table;
   *   "effects"       every row of ligand effects, and the tables the Ligand-effects figure reads;
   *   "effects_lazy"  the same but no row: a method reading a row not fetched yet throws
   *                   `NotLoaded`, and `await store.load(error.needed)` fetches it.
   */
  async prepare(condition = null, needs = ALL_NEEDS) {
    const jobs = [this._loadTable(this.names.genes), this._loadTable(this.names.interactions)];
    if (condition !== null && condition !== undefined) {
      jobs.push(this._prepareCondition(this.condition(condition), needs));
    }
    await Promise.all(jobs);
  }

  async _prepareCondition(cond, needs) {
    const unknown = needs.filter((need) => !KNOWN_NEEDS.includes(need));
    if (unknown.length) throw new StoreError(`unknown needs ${pyRepr(unknown.join(", "))} of prepare()`);
    const n = this.names;
    const circos = this._conditionFile(cond, n.circos);
    const effects = needs.includes("effects") || needs.includes("effects_lazy");
    const jobs = [];
    if (needs.includes("circos") || needs.includes("pairs")) jobs.push(this._loadTable(circos));
    else if (effects) jobs.push(this._loadTable(circos, n.effects_circos_columns));
    if (needs.includes("pairs")) jobs.push(this._loadTable(this._conditionFile(cond, n.pairs)), this._loadTable(n.expression));
    if (effects && cond.kind === "single") {
      jobs.push(this._loadTable(this._conditionFile(cond, n.condition_genes)), this._loadTable(n.expression));
      jobs.push(this._loadArray(this._conditionFile(cond, n.effect_offsets)), this._loadBlockList(cond));
      if (needs.includes("effects")) {
        jobs.push(
          this._loadBlockList(cond).then(() => this._loadBlocks(cond, this._blockList(cond).blocks.map((_, k) => k))),
        );
      }
    }
    await Promise.all(jobs);
  }

  /** `prepare` for every condition (what `tested_lr_gene_count` reads). */
  async prepareAll(needs = ALL_NEEDS) {
    await Promise.all(this.conditions.map((c) => this.prepare(c.id, needs)));
  }

  _memo(key, make) {
    if (!(key in this._cached)) this._cached[key] = make();
    return this._cached[key];
  }

  // ---------------------------------------------------------------- names

  /** The store version id the site was exported from. */
  get version() {
    return this.index.version ?? null;
  }

  /** The study's identity (site.json) or null. */
  get identity() {
    return this.index.identity ?? null;
  }

  /** The figures' default choices (figure_defaults.json) or null. */
  get figure_defaults() {
    return this.index.figure_defaults ?? null;
  }

  get fingerprint() {
    return String(this.manifest.compile_key ?? "") + String(this.manifest.created ?? "");
  }

  condition(nameOrId) {
    const found = this._byName.get(String(nameOrId));
    if (found === undefined) {
      throw new NotFoundError(
        `unknown condition ${pyRepr(String(nameOrId))}`,
        `choose one of ${choices(this.conditions.map((c) => c.name))}`,
      );
    }
    return found;
  }

  default_condition(single = false) {
    if (!single) {
      const combined = this.conditions.find((c) => c.kind === "combined");
      if (combined) return combined;
    }
    const first = this.conditions.find((c) => c.kind === "single");
    if (!first) throw new StoreError("the store has no single condition");
    return first;
  }

  fdr(value) {
    let number;
    if (typeof value === "number") number = value;
    else {
      const parsed = pyFloat(String(value));
      number = parsed === null ? NaN : parsed;
    }
    for (const t of this.thresholds) if (sameFloat(number, t)) return t;
    const shown = typeof value === "number" ? pyFloatRepr(value) : pyRepr(String(value));
    const ts = this.thresholds;
    throw new NotFoundError(
      `FDR threshold ${shown} is not available`,
      `choose ${formatFixed(ts[0], 2)} … ${formatFixed(ts[ts.length - 1], 2)} in steps of 0.01`,
    );
  }

  cell_type(name) {
    if (!this._cellTypeSet.has(name)) {
      throw new NotFoundError(
        `unknown cell type ${pyRepr(String(name))}`,
        `choose one of ${choices(this.cell_types)}`,
      );
    }
    return name;
  }

  get genes() {
    return this._memo("genes", () => [...this._frame(this.names.genes).column("gene")]);
  }

  _listed() {
    const g = this._frame(this.names.genes);
    const lig = g.column("is_ligand");
    const rec = g.column("is_receptor");
    return g.column("gene").filter((_, i) => Boolean(lig[i]) || Boolean(rec[i]));
  }

  /** How many genes the ligand–receptor list names (each once, ligand or receptor). */
  get lr_gene_count() {
    return this._memo("lr_gene_count", () => this._listed().length);
  }

  /** How many of the list's genes the data tested (needs `prepareAll(["circos"])`). */
  get tested_lr_gene_count() {
    return this._memo("tested_lr_gene_count", () => {
      const tested = new Set();
      for (const cond of this.conditions) {
        if (cond.kind !== "single") continue;
        for (const t of this._frame(this._conditionFile(cond, this.names.circos), ["target"]).column("target")) {
          tested.add(String(t));
        }
      }
      return new Set(this._listed().filter((g) => tested.has(g))).size;
    });
  }

  _geneLookup() {
    return this._memo("gene_lookup", () => {
      const lookup = new Map();
      for (const g of this.genes) {
        const lower = g.toLowerCase();
        if (!lookup.has(lower)) lookup.set(lower, g);
      }
      for (const g of this.genes) lookup.set(g, g);
      return lookup;
    });
  }

  gene(name) {
    const lookup = this._geneLookup();
    const found = lookup.get(name) || lookup.get(String(name).toLowerCase());
    if (!found) {
      throw new NotFoundError(`unknown gene ${pyRepr(String(name))}`, "check the gene symbol's spelling");
    }
    return found;
  }

  // ---------------------------------------------------------------- tables

  _table(cond) {
    return this._frame(this._conditionFile(cond, this.names.circos));
  }

  _counts(t, thr) {
    const n = this.names;
    const sigCol = countColumn(n.sig_count, thr);
    const raw = t.column(sigCol);
    const lig = t.column("ligand");
    const rec = t.column("receptor");
    const sig = new Float64Array(t.length);
    for (let i = 0; i < t.length; i += 1) sig[i] = lig[i] && !rec[i] ? 0 : raw[i];
    const minCol = countColumn(n.sig_min_count, thr);
    return {
      sig,
      deg: t.column(countColumn(n.deg_count, thr)),
      all: t.column(t.has(minCol) ? minCol : sigCol),
    };
  }

  /** One row per (cell type, target) at threshold `fdr` (see SPEC-data.md). */
  circos_table(condition, fdr) {
    const cond = this.condition(condition);
    const thr = this.fdr(fdr);
    const t = this._table(cond);
    const counts = this._counts(t, thr);
    const kept = (name) => [name, t.dtypes[name], t.column(name)];
    return Frame.of([
      ...["cell_type", "target", "ligand", "receptor", "cell_type_dc1", "DA_score"].map(kept),
      ["numSigI1", "int64", counts.sig],
      ["numDEG", "int64", counts.deg],
      ...["MAST_log2FC", "MAST_fdr", "MAST_fdr_all"].map(kept),
      ["MAST_same_sign", "bool", t.column("MAST_same_sign").map(Boolean)],
      ["numSigI1_all", "int64", counts.all],
    ]);
  }

  /** One row per (cell type, target): its input row and the target's own MAST log2FC and FDR
   * (the spec's `effects_circos_columns`), what the ligand-effects propagation reads of the
   * circos table; no column depends on a threshold. */
  mast_table(condition) {
    const cond = this.condition(condition);
    return this._frame(this._conditionFile(cond, this.names.circos), this.names.effects_circos_columns);
  }

  /** The threshold-independent columns of the pairwise table, for the pairs between the cell
   * types `wanted` (a Set; null: every pair). Built on those rows only: a view reads two or three
   * of the cell types, and building every pair of a study-scale condition was most of a
   * condition's first view. Kept for the last few (condition, cell types), which is what
   * threshold changes ask for again. */
  _pairsBase(cond, wanted) {
    // (every pair and no cell type at all are two keys: the first part tells them apart)
    const key = [wanted === null ? "all" : "some", cond.id, ...[...(wanted ?? [])].sort()].join("\u0000");
    let base = this._pairs.get(key);
    if (base !== undefined) return base;
    let pairs = this._frame(this._conditionFile(cond, this.names.pairs));
    if (wanted !== null) {
      const a = pairs.column("cell_type_ligand");
      const b = pairs.column("cell_type_receptor");
      const rows = [];
      for (let i = 0; i < pairs.length; i += 1) if (wanted.has(a[i]) && wanted.has(b[i])) rows.push(i);
      pairs = pairs.select([...PAIR_KEYS, "lig_idx", "rec_idx"]).take(rows);
    }
    const t = this._table(cond);
    const lig = pairs.column("lig_idx");
    const rec = pairs.column("rec_idx");
    const specs = PAIR_KEYS.map((name) => [name, pairs.dtypes[name], pairs.column(name)]);
    for (const [side, idx] of [
      ["ligand", lig],
      ["receptor", rec],
    ]) {
      specs.push([`MAST_log2FC_${side}`, "float64", takeFloat(t.column("MAST_log2FC"), idx)]);
      specs.push([`MAST_fdr_${side}`, "float64", takeFloat(t.column("MAST_fdr"), idx)]);
      specs.push([
        `expression_${side}`,
        "float64",
        this._expressionOf(pairs.column(`cell_type_${side}`), pairs.column(side)),
      ]);
      specs.push([`DA_${side}`, "float64", takeFloat(t.column("DA_score"), idx)]);
      specs.push([`cell_type_${side}_dc1`, "float64", takeFloat(t.column("cell_type_dc1"), idx)]);
    }
    specs.push(["MAST_fdr_all_ligand", "float64", takeFloat(t.column("MAST_fdr_all"), lig)]);
    specs.push([
      "MAST_same_sign_ligand",
      "bool",
      takeValues(t.column("MAST_same_sign"), lig).map(Boolean),
    ]);
    specs.push(["rec_idx", pairs.dtypes.rec_idx, rec]);
    base = Frame.of(specs);
    if (this._pairs.size >= PAIRS_KEPT) this._pairs.delete(this._pairs.keys().next().value);
    this._pairs.set(key, base);
    return base;
  }

  /** Ligand (cell type A) → receptor (cell type B) rows for every listed pair. */
  pairwise_table(condition, fdr, cellTypes = null) {
    const cond = this.condition(condition);
    const thr = this.fdr(fdr);
    const wanted =
      cellTypes === null || cellTypes === undefined ? null : new Set(cellTypes.map((c) => this.cell_type(c)));
    const base = this._pairsBase(cond, wanted);
    const t = this._table(cond);
    const counts = this._counts(t, thr);
    const rec = base.column("rec_idx");
    const columns = { ...base.columns };
    const dtypes = { ...base.dtypes };
    columns.numSigI1 = takeFloat(counts.sig, rec);
    columns.numDEG = takeFloat(counts.deg, rec);
    columns.numSigI1_all_receptor = takeFloat(counts.all, rec);
    dtypes.numSigI1 = dtypes.numDEG = dtypes.numSigI1_all_receptor = "int64";
    return new Frame([...PAIR_COLUMNS], pick(columns, PAIR_COLUMNS), pick(dtypes, PAIR_COLUMNS), base.length);
  }

  // ---------------------------------------------------------------- expression

  /** gene → (cell type → expressing fraction): the long table pivoted (reader._expression). */
  _expression() {
    return this._memo("expression", () => {
      const long = this._frame(this.names.expression);
      const genes = long.column("gene");
      const types = long.column("cell_type");
      const values = long.column("expression");
      const wide = new Map();
      const cellTypes = new Set();
      for (let i = 0; i < long.length; i += 1) {
        if (!wide.has(genes[i])) wide.set(genes[i], new Map());
        wide.get(genes[i]).set(types[i], values[i]);
        cellTypes.add(types[i]);
      }
      return { wide, cellTypes };
    });
  }

  /** One gene's fraction in one cell type: 0 for a gene or cell type the table lacks, NaN for
   * a pair it lacks (the pivot's hole), as in Python. */
  _expressionValue(cellType, gene) {
    const { wide, cellTypes } = this._expression();
    const row = wide.get(gene);
    if (row === undefined || !cellTypes.has(cellType)) return 0;
    const value = row.get(cellType);
    return value === undefined ? NaN : value;
  }

  _expressionOf(cellTypes, genes) {
    const out = new Float64Array(genes.length);
    for (let i = 0; i < genes.length; i += 1) out[i] = this._expressionValue(cellTypes[i], genes[i]);
    return out;
  }

  expression(cellType, gene) {
    return this._expressionValue(cellType, gene);
  }

  // ---------------------------------------------------------------- ligand–receptor list

  _lr() {
    return this._frame(this.names.interactions);
  }

  _grouped(key, value) {
    return this._memo(`lr:${key}`, () => {
      const lr = this._lr();
      const keys = lr.column(key);
      const values = lr.column(value);
      const groups = new Map();
      for (let i = 0; i < lr.length; i += 1) {
        if (keys[i] === null) continue; // groupby drops missing keys
        if (!groups.has(keys[i])) groups.set(keys[i], []);
        groups.get(keys[i]).push(values[i]);
      }
      for (const list of groups.values()) list.sort(pyCompare);
      return groups;
    });
  }

  lr_pairs() {
    const lr = this._lr();
    return lr.take(Array.from({ length: lr.length }, (_, i) => i));
  }

  receptors_of(ligand) {
    return [...(this._grouped("ligand", "receptor").get(ligand) || [])];
  }

  ligands_of(receptor) {
    return [...(this._grouped("receptor", "ligand").get(receptor) || [])];
  }

  // ---------------------------------------------------------------- ligand effects

  _rowIndex(cond) {
    if (!this._rows.has(cond.id)) {
      const t = this._frame(this._conditionFile(cond, this.names.circos), ["cell_type", "target", "row"]);
      const cts = t.column("cell_type");
      const targets = t.column("target");
      const rows = t.column("row");
      const index = new Map();
      for (let i = 0; i < t.length; i += 1) index.set(`${cts[i]}\u0000${targets[i]}`, rows[i]);
      this._rows.set(cond.id, index);
    }
    return this._rows.get(cond.id);
  }

  has_row(condition, cellType, target) {
    const cond = this.condition(condition);
    return this._rowIndex(cond).has(`${cellType}\u0000${target}`) && cond.kind === "single";
  }

  targets(condition, cellType) {
    const t = this._frame(this._conditionFile(this.condition(condition), this.names.circos), ["cell_type", "target"]);
    const cts = t.column("cell_type");
    return pySorted(t.column("target").filter((_, i) => cts[i] === cellType));
  }

  _effectMatrices(cond) {
    if (!this._effects.has(cond.id)) {
      const n = this.names;
      const genes = [...this._frame(this._conditionFile(cond, n.condition_genes)).column("gene")];
      const info = new Map();
      const g = this._frame(n.genes);
      const [names, lig, rec, maxLig] = ["gene", "is_ligand", "is_receptor", "max_ligand_expression"].map(
        (c) => g.column(c),
      );
      for (let i = 0; i < g.length; i += 1) info.set(names[i], i);
      const m = {
        offsets: this._array(this._conditionFile(cond, n.effect_offsets)),
        rows: this._rowMap(cond),
        blocks: this._blockList(cond),
        genes,
        is_ligand: genes.map((x) => (info.has(x) ? Boolean(lig[info.get(x)]) : false)),
        is_receptor: genes.map((x) => (info.has(x) ? Boolean(rec[info.get(x)]) : false)),
        max_ligand: Float64Array.from(genes, (x) => {
          const v = info.has(x) ? maxLig[info.get(x)] : NaN;
          return Number.isNaN(v) ? 0 : v; // fillna(0.0)
        }),
      };
      this._effects.set(cond.id, m);
    }
    return this._effects.get(cond.id);
  }

  /** The widest threshold the stored ligand-effect rows serve. */
  get effects_t_max() {
    return Number(this.manifest[this.names.effects_key].t_max);
  }

  /** [the single condition, the input row] of one (cell type, target) ligand-effects row. */
  effects_row(condition, cellType, target) {
    const cond = this.condition(condition);
    if (cond.kind !== "single") {
      const singles = this.conditions.filter((c) => c.kind === "single").map((c) => c.name);
      throw new StoreError(
        `ligand effects need a single condition, not the combined ${pyRepr(cond.name)}`,
        `choose one of ${choices(singles)}`,
      );
    }
    this.cell_type(cellType);
    const row = this._rowIndex(cond).get(`${cellType}\u0000${target}`);
    if (row === undefined) {
      throw new NotFoundError(`${pyRepr(String(target))} was not tested in ${pyRepr(cellType)} (${cond.name})`);
    }
    return [cond, row];
  }

  /** The downstream genes of a single condition, in the order of its input layers. */
  condition_genes(condition) {
    return this._effectMatrices(this.condition(condition)).genes;
  }

  /** The ligand-effects table of genes `geneIndex` (positions in `condition_genes`);
   * `values` maps each effect column (log2FC, fdr, i1.fdr) to one value per listed gene. */
  effects_frame(condition, cellType, geneIndex, values) {
    const m = this._effectMatrices(this.condition(condition));
    const idx = Array.from(geneIndex, Number);
    const { wide, cellTypes } = this._expression();
    if (!cellTypes.has(cellType)) {
      throw new StoreError(`no expression column for the cell type ${pyRepr(String(cellType))}`);
    }
    const expression = Float64Array.from(idx, (i) => {
      const row = wide.get(m.genes[i]);
      if (row === undefined) return 0;
      const v = row.get(cellType);
      return v === undefined ? NaN : v;
    });
    return Frame.of([
      ["gene", "object", idx.map((i) => m.genes[i])],
      ...this.names.effect_layers.map((e) => [e.column, "float64", Float64Array.from(values[e.column])]),
      ["gene_is_ligand", "bool", idx.map((i) => m.is_ligand[i])],
      ["gene_is_receptor", "bool", idx.map((i) => m.is_receptor[i])],
      ["gene_expression", "float64", expression],
      ["gene_max_ligand_expression", "float64", Float64Array.from(idx, (i) => m.max_ligand[i])],
    ]);
  }

  /** The stored downstream genes of one (cell type, target) row of a single condition (throws
   * `NotLoaded` when its block is not fetched yet). */
  ligand_effects(condition, cellType, target) {
    const [cond, row] = this.effects_row(condition, cellType, target);
    const m = this._effectMatrices(cond);
    const start = m.offsets[row];
    const stop = m.offsets[row + 1];
    const values = {};
    if (start === stop) {
      for (const e of this.names.effect_layers) values[e.column] = new Float64Array(0);
      return this.effects_frame(cond.name, cellType, new Float64Array(0), values);
    }
    const k = m.rows.rowBlock[row];
    const block = this._blocks.get(`${cond.id}/${k}`);
    if (block === undefined) {
      throw new NotLoaded([{ condition: cond.id, block: k }], this._blockWhat(cond, m.blocks, k));
    }
    const from = m.rows.rowStart[row];
    const to = from + (stop - start);
    for (const e of this.names.effect_layers) values[e.column] = block.layers[e.column].subarray(from, to);
    return this.effects_frame(cond.name, cellType, block.gene_index.subarray(from, to), values);
  }

  /** Throws `NotLoaded` naming every block not fetched yet that holds the ligand effects of one
   * of these [cell type, target] rows (rows the condition lacks, or empty, need none): a caller
   * about to read several rows asks for all of them at once (one round trip, not one per row).
   * Nothing to do once every row is fetched (`prepare(condition, ["effects"])`). */
  require_effects(condition, rows) {
    const cond = this.condition(condition);
    if (cond.kind !== "single") return;
    const m = this._effectMatrices(cond);
    const index = this._rowIndex(cond);
    const needed = new Set();
    for (const [cellType, target] of rows) {
      const row = index.get(`${cellType}\u0000${target}`);
      if (row === undefined || m.offsets[row] === m.offsets[row + 1]) continue;
      const k = m.rows.rowBlock[row];
      if (!this._blocks.has(`${cond.id}/${k}`)) needed.add(k);
    }
    if (needed.size) {
      const ks = [...needed].sort((a, b) => a - b);
      const what = `${ks.length} block(s) of ${this.names.conditions_dir}/${cond.id}/effects_*.npy`;
      throw new NotLoaded(ks.map((block) => ({ condition: cond.id, block })), what);
    }
  }
}

// the pairs table's own columns a pairwise row starts from, and how many built bases are kept
const PAIR_KEYS = ["ligand", "cell_type_ligand", "receptor", "cell_type_receptor"];
const PAIRS_KEPT = 8;

const PAIR_COLUMNS = [
  "ligand", "cell_type_ligand", "receptor", "cell_type_receptor", "numSigI1", "numDEG",
  "MAST_log2FC_ligand", "MAST_fdr_ligand", "MAST_fdr_all_ligand", "MAST_same_sign_ligand",
  "expression_ligand", "DA_ligand", "cell_type_ligand_dc1", "MAST_log2FC_receptor",
  "MAST_fdr_receptor", "expression_receptor", "DA_receptor", "cell_type_receptor_dc1",
  "numSigI1_all_receptor",
];

function takeFloat(values, indices) {
  const out = new Float64Array(indices.length);
  for (let i = 0; i < indices.length; i += 1) out[i] = values[indices[i]];
  return out;
}

/** A ligand-effects block list (ctsite/deploy/static_site/effects_blocks.py), checked: blocks
 * of a file and increasing row ranges [a, b) each, holding the arrays `wanted` (that every row is
 * in one block is checked against the offsets: Store._rowMap). */
function blockList(doc, wanted) {
  if (!doc || !Array.isArray(doc.blocks) || !Array.isArray(doc.arrays)) {
    throw new Error("not a block list {arrays, blocks}");
  }
  for (const block of doc.blocks) {
    const ok =
      block &&
      typeof block.file === "string" &&
      Array.isArray(block.rows) &&
      block.rows.every(
        (r) => Array.isArray(r) && r.length === 2 && Number.isSafeInteger(r[0]) && Number.isSafeInteger(r[1]) && 0 <= r[0] && r[0] < r[1],
      );
    if (!ok) throw new Error("a block is not {file, rows: [[a, b], …]}");
  }
  const missing = wanted.filter((name) => !doc.arrays.includes(name));
  if (missing.length) throw new Error(`its blocks lack ${missing.join(", ")}`);
  return { arrays: doc.arrays, blocks: doc.blocks };
}

/** One block's arrays (a Frame with one column per store array): the entries' gene positions and
 * one array per effect layer, checked against the dtypes the store writes and the offsets. */
function blockValues(frame, entries, names) {
  if (frame.length !== entries) throw new Error(`${frame.length} entries, the offsets say ${entries}`);
  const numeric = (file, dtypes) => {
    if (!frame.has(file)) throw new Error(`no column ${file}`);
    if (!dtypes.includes(frame.dtypes[file])) throw new Error(`${file} is ${frame.dtypes[file]}, not ${dtypes.join(" or ")}`);
    return frame.column(file);
  };
  const layers = {};
  for (const layer of names.effect_layers) layers[layer.column] = numeric(layer.file, ["float32", "float64"]);
  return { gene_index: numeric(names.effect_genes, ["int32", "int64"]), layers };
}

function pick(object, names) {
  const out = {};
  for (const name of names) out[name] = object[name];
  return out;
}
