// What a downloaded file is called and the provenance it carries: the port of
// ctsite/web/downloads.py (file names, `# key: value` lines of a CSV) for the static site.
//
// A number's text depends on its control's kind, since JavaScript has one number type where
// Python has int and float: an "int" control's value is written as an integer, an "fdr" or
// "float" control's as Python writes a float (repr in the URL, `:g` in the file name).

import { formatValue } from "./params.js";
import { formatG } from "./py.js";

const MAIN_KINDS = new Set(["fdr", "int"]);
const UNSAFE = /[^A-Za-z0-9.-]+/g;
// Python's whitespace (`str.split()`), which is not JavaScript's `\s` (\x1c–\x1f, \x85; no \ufeff)
const PY_SPACE = /[\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;

/** A file-name-safe form of a label: runs of anything else become one underscore. */
export function slug(text) {
  return text.replace(UNSAFE, "_").replace(/^_+|_+$/g, "").slice(0, 60) || "x";
}

/** e.g. `pairwise_CIN_STING-dependent_interactions_fdr_i-0.25_fdr_l-0.05_min_numsigi1-10`. */
export function downloadStem(figure, controls, conditionLabel, params) {
  const parts = [figure, slug(conditionLabel)];
  for (const control of controls) {
    const value = params[control.name];
    if (MAIN_KINDS.has(control.kind) && value !== null && value !== undefined) {
      parts.push(`${control.name}-${control.kind === "fdr" ? formatG(value) : String(value)}`);
    }
  }
  return parts.join("_");
}

/** Python's `urllib.parse.quote_plus`: letters, digits and `_.-~` stay, spaces become `+`. */
export function quotePlus(text) {
  return encodeURIComponent(text)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replaceAll("%20", "+");
}

// base_provenance's fields, in its order (a page's copy of them may come with its keys sorted)
const BASE_FIELDS = ["site", "store_version", "store_fingerprint", "ctsite_version"];

/** Every provenance field of one view (`base`: the page's base_provenance; `pageUrl`: the
 * figure page's address, no query), in the order of the server's CSV. */
export function provenance(title, base, controls, params, pageUrl) {
  const query = controls
    .filter((c) => params[c.name] !== null && params[c.name] !== undefined)
    .map((c) => `${quotePlus(c.name)}=${quotePlus(formatValue(params[c.name], c.kind))}`)
    .join("&");
  const fields = { figure: title };
  for (const key of BASE_FIELDS) fields[key] = base[key] ?? "";
  return { ...fields, parameters: query, url: `${pageUrl}?${query}` };
}

/** The leading comment lines of a CSV (one `# key: value` per field, no line breaks). */
export function csvHeader(fields) {
  return Object.entries(fields)
    .map(([key, value]) => `# ${key}: ${String(value).split(PY_SPACE).filter(Boolean).join(" ")}\n`)
    .join("");
}
