// Figure parameters from a URL's query: the browser's ctsite/figures/params.py.
//
//   parseParams(figureName, store, query) → canonical parameters, or throws BadParameter with
//                                            the very message (and hint) Python's parse_params
//                                            gives for the same query
//   toQuery(figureName, store, params)    → {key: text}, what Python's to_query gives
//   parseValue(store, control, text), formatValue(value, kind): the per-control halves
//
// The controls (key, label, kind, range, optional, single-condition-only), the width classes and
// the gene limit are read from the index's spec (ctsite/figures/browser_spec.py), never restated.
// `query` is a query string ("?a=1&b=2", read as the server reads it: `parseQueryString`), a
// URLSearchParams, a Map or a plain object; the first value of a repeated key counts, as in
// Flask's request.args.
//
// Canonical values: a condition's *name*, a precomputed threshold, numbers (an "int" control's
// value is an integer), a cell type or null, an array of canonical gene symbols, a boolean.

import { figureDefaults } from "./defaults.js";
import {
  floatOrNull as pyFloat,
  formatG,
  pyFloatRepr,
  pyRepr,
  pySlice,
  pyStrip,
  splitGeneWords,
} from "./py.js";
import { NotFoundError } from "./store.js";

const TRUE = new Set(["1", "true", "yes", "on"]);
const FALSE = new Set(["0", "false", "no", "off"]);
const NONE = new Set(["", "none", "[none]"]);

/** params.BadParameter: a figure parameter is missing, malformed or unknown. */
export class BadParameter extends Error {
  constructor(message, hint = null) {
    super(message);
    this.name = "BadParameter";
    this.message = message;
    this.hint = hint;
  }
}

function describeRange(control) {
  return `${formatG(control.minimum)} to ${formatG(control.maximum)}`;
}

/** How an error names a control: its label, then its query key. */
function named(control) {
  return `${control.label} (${control.name})`;
}

function parseNumber(control, text, integer) {
  const what = integer ? "an integer" : "a number";
  const value = pyFloat(text);
  if (value === null || !Number.isFinite(value) || (integer && value !== Math.trunc(value))) {
    throw new BadParameter(
      `${named(control)} must be ${what} from ${describeRange(control)}, got ${pyRepr(pySlice(text, 40))}`,
    );
  }
  const lo = control.minimum === null ? -Infinity : control.minimum;
  const hi = control.maximum === null ? Infinity : control.maximum;
  if (!(lo <= value && value <= hi)) {
    throw new BadParameter(
      `${named(control)} must be from ${describeRange(control)}, got ${pyRepr(pySlice(text, 40))}`,
    );
  }
  return integer ? Math.trunc(value) + 0 : value; // + 0: int(-0.0) is 0
}

function parseFdr(store, control, text) {
  const thresholds = store.thresholds;
  let allowed = `one of ${formatG(thresholds[0])}, ${formatG(thresholds[1])}, …, ${formatG(
    thresholds[thresholds.length - 1],
  )}`;
  const steps = thresholds.slice(1).map((b, i) => b - thresholds[i]);
  if (steps.length > 1 && Math.max(...steps) - Math.min(...steps) < 1e-9) {
    allowed = `from ${formatG(thresholds[0])} to ${formatG(thresholds[thresholds.length - 1])} in steps of ${formatG(steps[0])}`;
  }
  const value = pyFloat(text);
  if (value !== null) {
    for (const t of thresholds) {
      if (Number.isFinite(value) && Math.abs(t - value) < 1e-9) return t;
    }
  }
  throw new BadParameter(`${named(control)} must be ${allowed}, got ${pyRepr(pySlice(text, 40))}`);
}

function parseCondition(store, control, text) {
  const options = store.conditions.filter(
    (c) => c.kind === "single" || !control.single_condition_only,
  );
  for (const c of options) if (text === c.name || text === c.id) return c.name;
  const names = options.map((c) => pyRepr(c.name)).join(", ");
  const extra = control.single_condition_only ? " (this figure needs a single condition)" : "";
  throw new BadParameter(
    `${named(control)}: unknown condition ${pyRepr(pySlice(text, 80))}${extra}; use one of ${names}`,
  );
}

function parseCellType(store, control, text) {
  if (control.optional && NONE.has(pyStrip(text).toLowerCase())) return null;
  if (store.cell_types.includes(text)) return text;
  const names = store.cell_types.map(pyRepr).join(", ");
  throw new BadParameter(
    `${named(control)}: unknown cell type ${pyRepr(pySlice(text, 80))}; use one of ${names}`,
  );
}

function parseGenes(store, control, text) {
  const limit = store.spec.limits.max_genes;
  const words = splitGeneWords(text);
  if (words.length > limit) {
    throw new BadParameter(`${named(control)}: at most ${limit} genes, got ${words.length}`);
  }
  const genes = [];
  const unknown = [];
  for (const word of words) {
    let gene;
    try {
      gene = store.gene(word);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error; // a damaged store is not a bad gene
      unknown.push(pySlice(word, 40));
      continue;
    }
    if (!genes.includes(gene)) genes.push(gene);
  }
  if (unknown.length) {
    throw new BadParameter(
      `${named(control)}: unknown gene(s): ${unknown.join(", ")}`,
      "gene symbols must appear in the ligand–receptor list of the compiled data",
    );
  }
  if (!genes.length && !control.optional) {
    throw new BadParameter(`${named(control)}: give at least one gene symbol`);
  }
  return genes;
}

function parseBool(control, text) {
  const word = pyStrip(text).toLowerCase();
  if (TRUE.has(word)) return true;
  if (FALSE.has(word)) return false;
  throw new BadParameter(`${named(control)} must be 1/0 or true/false, got ${pyRepr(pySlice(text, 40))}`);
}

/** params.parse_value: one query value for `control` → its canonical value, or BadParameter. */
export function parseValue(store, control, raw) {
  const text = pyStrip(String(raw));
  switch (control.kind) {
    case "condition":
      return parseCondition(store, control, text);
    case "fdr":
      return parseFdr(store, control, text);
    case "int":
      return parseNumber(control, text, true);
    case "float":
      return parseNumber(control, text, false);
    case "cell_type":
      return parseCellType(store, control, text);
    case "genes":
      return parseGenes(store, control, text);
    case "bool":
      return parseBool(control, text);
    default:
      throw new BadParameter(`${control.name}: unsupported control kind ${pyRepr(control.kind)}`);
  }
}

const HEX = /^[0-9A-Fa-f]{2}$/;
const UTF8 = new TextDecoder("utf-8", { ignoreBOM: true }); // a BOM is text here, not a mark

/** The length of the valid UTF-8 sequence at bytes[i], or 0 (Python's decoder's rules). */
function utf8Length(bytes, i) {
  const b = bytes[i];
  if (b < 0x80) return 1;
  let need;
  let lo = 0x80;
  let hi = 0xbf;
  if (b >= 0xc2 && b <= 0xdf) need = 1;
  else if (b >= 0xe0 && b <= 0xef) {
    need = 2;
    if (b === 0xe0) lo = 0xa0;
    if (b === 0xed) hi = 0x9f;
  } else if (b >= 0xf0 && b <= 0xf4) {
    need = 3;
    if (b === 0xf0) lo = 0x90;
    if (b === 0xf4) hi = 0x8f;
  } else return 0;
  for (let k = 1; k <= need; k += 1) {
    const c = bytes[i + k];
    if (c === undefined || c < (k === 1 ? lo : 0x80) || c > (k === 1 ? hi : 0xbf)) return 0;
  }
  return need + 1;
}

/** Bytes as UTF-8 text, each invalid byte kept as "%XX" (werkzeug's errors="url_quote"). */
function decodeKeepingInvalid(bytes) {
  let out = "";
  let i = 0;
  while (i < bytes.length) {
    const n = utf8Length(bytes, i);
    if (n === 0) {
      out += "%" + bytes[i].toString(16).toUpperCase().padStart(2, "0");
      i += 1;
    } else {
      out += UTF8.decode(bytes.subarray(i, i + n));
      i += n;
    }
  }
  return out;
}

/** urllib.parse.unquote(text, errors="werkzeug.url_quote"): %XX escapes in ASCII runs decoded
 * as UTF-8, invalid bytes left percent-encoded, other characters as they are. */
function unquote(text) {
  if (!text.includes("%")) return text;
  let out = "";
  let bytes = [];
  const flush = () => {
    out += decodeKeepingInvalid(Uint8Array.from(bytes));
    bytes = [];
  };
  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i);
    if (cp >= 0x80) {
      flush();
      const ch = String.fromCodePoint(cp);
      out += ch;
      i += ch.length;
    } else if (text[i] === "%" && HEX.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 3;
    } else {
      bytes.push(cp);
      i += 1;
    }
  }
  flush();
  return out;
}

/**
 * A URL's query string read as the Python site reads it (werkzeug's request.args:
 * `parse_qsl(keep_blank_values=True, errors="werkzeug.url_quote")`): pairs split on "&", a key
 * without "=" has the value "", "+" is a space, invalid UTF-8 stays percent-encoded (where
 * URLSearchParams would put U+FFFD, the server's error text shows "%FF"). A leading "?" (as in
 * `location.search`) is skipped. Returns [key, value] pairs in order.
 */
export function parseQueryString(query) {
  const text = query.startsWith("?") ? query.slice(1) : query;
  const pairs = [];
  for (const piece of text.split("&")) {
    if (!piece) continue;
    const at = piece.indexOf("=");
    const [name, value] = at < 0 ? [piece, ""] : [piece.slice(0, at), piece.slice(at + 1)];
    pairs.push([unquote(name.replaceAll("+", " ")), unquote(value.replaceAll("+", " "))]);
  }
  return pairs;
}

/** A query in any of the accepted forms → get(name): its (first) text, or null when absent. */
function getter(query) {
  if (query === null || query === undefined) return () => null;
  if (typeof query === "string") {
    const first = new Map();
    for (const [key, value] of parseQueryString(query)) if (!first.has(key)) first.set(key, value);
    return (name) => (first.has(name) ? first.get(name) : null);
  }
  if (typeof query.get === "function") {
    return (name) => {
      const value = query.get(name);
      return value === undefined ? null : value;
    };
  }
  return (name) =>
    Object.prototype.hasOwnProperty.call(query, name) && query[name] !== undefined && query[name] !== null
      ? query[name]
      : null;
}

function figureOf(store, name) {
  const figure = store.spec.figures[name];
  if (!figure) throw new Error(`unknown figure ${name}`);
  return figure;
}

/** params.parse_params: missing keys take the defaults, unknown keys are ignored. */
export function parseParams(figureName, store, query) {
  const figure = figureOf(store, figureName);
  const params = figureDefaults(figureName, store);
  const get = getter(query);
  for (const control of figure.controls) {
    const raw = get(control.name);
    if (raw === null) continue;
    const empty = pyStrip(String(raw)) === "";
    if (empty && control.kind !== "genes" && control.kind !== "cell_type") continue; // the default
    if (empty && control.kind === "genes" && !control.optional) continue;
    params[control.name] = parseValue(store, control, raw);
  }
  if (figure.sizes.length) {
    const given = get("size");
    const size = String(given || params.size);
    if (!figure.sizes.includes(size)) {
      throw new BadParameter(
        `size must be one of ${figure.sizes.join(", ")} (got ${pyRepr(pySlice(size, 40))})`,
      );
    }
    params.size = size;
  }
  return params;
}

/** params.format_value: a canonical value of a control of `kind` → its query text. */
export function formatValue(value, kind) {
  if (value === null || value === undefined) return "";
  if (typeof value === "boolean") return value ? "1" : "0";
  if (Array.isArray(value)) return value.map(String).join(",");
  if (typeof value === "number") {
    // Python keeps ints and floats apart: an "int" control's value prints as 10, a number or
    // threshold control's as repr(float) (10.0, 0.05)
    return kind === "int" ? String(value) : pyFloatRepr(value);
  }
  return String(value);
}

/** params.to_query: canonical parameters → the query mapping parse_params maps back to them. */
export function toQuery(figureName, store, params) {
  const out = {};
  for (const control of figureOf(store, figureName).controls) {
    out[control.name] = formatValue(params[control.name], control.kind);
  }
  return out;
}
