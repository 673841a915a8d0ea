// Column tables for the engine: the few pandas operations the figure builders use, with
// pandas' results (row order, stable sorts, first-kept duplicates).
//
// A table is `{columns: {name: Array | TypedArray}, length}`; every column has `length`
// entries. Operations return new tables and never change their input.

/** @typedef {{columns: Record<string, ArrayLike<any>>, length: number}} Table */

/** A table from named columns (all of one length). @returns {Table} */
export function table(columns) {
  const names = Object.keys(columns);
  const length = names.length ? columns[names[0]].length : 0;
  for (const name of names) {
    if (columns[name].length !== length) {
      throw new Error(`column ${name} has ${columns[name].length} rows, not ${length}`);
    }
  }
  return { columns, length };
}

/** An empty column like `values` (a typed array stays one: float32 compares as float32). */
function like(values, n) {
  return ArrayBuffer.isView(values) ? new values.constructor(n) : new Array(n);
}

/** The rows at `index` (positions), in that order. @returns {Table} */
export function take(t, index) {
  const columns = {};
  for (const [name, values] of Object.entries(t.columns)) {
    const out = like(values, index.length);
    for (let i = 0; i < index.length; i++) out[i] = values[index[i]];
    columns[name] = out;
  }
  return { columns, length: index.length };
}

/** `x` as the column's own type sees it: numpy compares a float32 column with a Python float
 * in float32 (NEP 50), so `fdr < 0.05` means `fdr < float32(0.05)` there. */
export function asColumnType(values, x) {
  return values instanceof Float32Array ? Math.fround(x) : x;
}

/** The rows where `keep(i)` is true (pandas boolean indexing). @returns {Table} */
export function filter(t, keep) {
  const index = [];
  for (let i = 0; i < t.length; i++) if (keep(i)) index.push(i);
  return take(t, index);
}

/** The first `n` rows (`DataFrame.head`). */
export function head(t, n) {
  return n >= t.length ? t : take(t, [...Array(n).keys()]);
}

/** Only `names`, in that order (missing names are skipped, as the builders' `if c in`). */
export function select(t, names) {
  const columns = {};
  for (const name of names) if (name in t.columns) columns[name] = t.columns[name];
  return { columns, length: t.length };
}

/** `t` with more columns (`DataFrame.assign`): each a column or a function of the row. */
export function assign(t, more) {
  const columns = { ...t.columns };
  for (const [name, value] of Object.entries(more)) {
    columns[name] =
      typeof value === "function" ? Array.from({ length: t.length }, (_, i) => value(i)) : value;
  }
  return { columns, length: t.length };
}

/** Tables one under the other (`pd.concat(ignore_index=True)`; the first table's columns). */
export function concat(tables, names) {
  const length = tables.reduce((n, t) => n + t.length, 0);
  const columns = {};
  for (const name of names) {
    const parts = tables.map((t) => t.columns[name]);
    const typed = parts.every((p) => ArrayBuffer.isView(p) && p.constructor === parts[0].constructor);
    const out = typed && parts.length ? like(parts[0], length) : new Array(length);
    let at = 0;
    for (const part of parts) for (let i = 0; i < part.length; i++) out[at++] = part[i];
    columns[name] = out;
  }
  return { columns, length };
}

/** Rows whose `keys` were not seen in an earlier row (`drop_duplicates(keep="first")`). */
export function dropDuplicates(t, keys) {
  const seen = new Set();
  return filter(t, (i) => {
    const key = JSON.stringify(keys.map((k) => t.columns[k][i]));
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Python's order of two values: numbers numerically, strings by code point (not UTF-16). */
export function compare(a, b) {
  if (typeof a === "string" && typeof b === "string") {
    if (a === b) return 0;
    const ca = Array.from(a);
    const cb = Array.from(b);
    for (let i = 0; i < Math.min(ca.length, cb.length); i++) {
      const d = ca[i].codePointAt(0) - cb[i].codePointAt(0);
      if (d !== 0) return d;
    }
    return ca.length - cb.length;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A stable sort by `keys` (`sort_values(kind="mergesort")`), each ascending or not. */
export function sortBy(t, keys, ascending) {
  const index = [...Array(t.length).keys()];
  index.sort((i, j) => {
    for (let k = 0; k < keys.length; k++) {
      const c = compare(t.columns[keys[k]][i], t.columns[keys[k]][j]);
      if (c !== 0) return ascending[k] ? c : -c;
    }
    return i - j;
  });
  return take(t, index);
}

/** Each row as an object (`itertuples`). */
export function* rows(t) {
  const names = Object.keys(t.columns);
  for (let i = 0; i < t.length; i++) {
    const row = {};
    for (const name of names) row[name] = t.columns[name][i];
    yield row;
  }
}

/** Smallest and largest of a numeric column (NaN-free, as the builders' inputs). */
export function extent(values) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}
