// A small columnar table, the engine's counterpart of the pandas DataFrames that
// ctsite/store/reader.py returns: same column names, same row order, same values.
//
//   frame.names            the column names, in the DataFrame's order
//   frame.columns[name]    one array per column:
//                            "object" (text)           → Array<string|null>
//                            "bool"                    → Array<boolean>
//                            "int32" / "int64"         → Float64Array (exact below 2^53)
//                            "float32" / "float64"     → Float64Array (a float32 widened exactly,
//                                                        as numpy's astype(float64) does; NaN kept)
//   frame.dtypes[name]     the numpy dtype name pandas reports for that column
//   frame.length           the number of rows
//
// Frames are immutable by convention: `take`, `where`, `select` and the others return new frames.

import { pyCompare } from "./py.js";

export class Frame {
  /**
   * @param {string[]} names
   * @param {Record<string, ArrayLike<any>>} columns
   * @param {Record<string, string>} dtypes
   * @param {number} length
   */
  constructor(names, columns, dtypes, length) {
    this.names = names;
    this.columns = columns;
    this.dtypes = dtypes;
    this.length = length;
  }

  /** A frame from [name, dtype, values] triples (all of one length). */
  static of(specs) {
    const names = [];
    const columns = {};
    const dtypes = {};
    let length = 0;
    for (const [name, dtype, values] of specs) {
      names.push(name);
      columns[name] = values;
      dtypes[name] = dtype;
      length = values.length;
    }
    return new Frame(names, columns, dtypes, length);
  }

  /** One column's values (throws on an unknown name, like pandas' KeyError). */
  column(name) {
    const values = this.columns[name];
    if (values === undefined) throw new Error(`no column ${name} in the table`);
    return values;
  }

  has(name) {
    return Object.prototype.hasOwnProperty.call(this.columns, name);
  }

  /** The rows at `indices`, in that order (`df.iloc[indices]`, index reset). */
  take(indices) {
    const columns = {};
    for (const name of this.names) columns[name] = takeValues(this.columns[name], indices);
    return new Frame([...this.names], columns, { ...this.dtypes }, indices.length);
  }

  /** The named columns, in the given order (`df[names]`). */
  select(names) {
    const columns = {};
    const dtypes = {};
    for (const name of names) {
      columns[name] = this.column(name);
      dtypes[name] = this.dtypes[name];
    }
    return new Frame([...names], columns, dtypes, this.length);
  }

  /** The first `n` rows (`df.head(n)`). */
  head(n) {
    return n >= this.length ? this : this.take([...Array(n).keys()]);
  }

  /** The rows where `keep(i)` is true (`df[mask]`, index reset). */
  where(keep) {
    const indices = [];
    for (let i = 0; i < this.length; i += 1) if (keep(i)) indices.push(i);
    return this.take(indices);
  }

  /** Only the listed columns this frame has, in that order (`df[[c for c in names if c in df]]`). */
  only(names) {
    return this.select(names.filter((name) => this.has(name)));
  }

  /** More columns (`df.assign`): `more` maps a name to [dtype, values or (i) => value]. */
  assign(more) {
    const names = [...this.names];
    const columns = { ...this.columns };
    const dtypes = { ...this.dtypes };
    for (const [name, [dtype, values]] of Object.entries(more)) {
      if (!names.includes(name)) names.push(name);
      columns[name] =
        typeof values === "function" ? Array.from({ length: this.length }, (_, i) => values(i)) : values;
      dtypes[name] = dtype;
    }
    return new Frame(names, columns, dtypes, this.length);
  }

  /** A stable sort by `keys` (`sort_values(kind="mergesort")`), each ascending or not. */
  sortBy(keys, ascending) {
    const index = [...Array(this.length).keys()];
    const cols = keys.map((k) => this.column(k));
    index.sort((i, j) => {
      for (let k = 0; k < keys.length; k += 1) {
        const c = compareValues(cols[k][i], cols[k][j]);
        if (c !== 0) return ascending[k] ? c : -c;
      }
      return i - j;
    });
    return this.take(index);
  }

  /** Rows whose `keys` no earlier row had (`drop_duplicates(keys, keep="first")`). */
  dropDuplicates(keys) {
    const seen = new Set();
    const cols = keys.map((k) => this.column(k));
    return this.where((i) => {
      const key = JSON.stringify(cols.map((c) => c[i]));
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }

  /** `x` as this column's own type compares it: numpy compares a float32 column with a Python
   * float in float32 (NEP 50), so `fdr < 0.05` means `fdr < float32(0.05)` there. */
  asColumnType(name, x) {
    return this.dtypes[name] === "float32" ? Math.fround(x) : x;
  }

  /** Frames one under the other with the same columns (`pd.concat(ignore_index=True)`). */
  static concat(frames, like) {
    const columns = {};
    const length = frames.reduce((n, f) => n + f.length, 0);
    for (const name of like.names) {
      const parts = frames.map((f) => f.column(name));
      const first = like.columns[name];
      const out = ArrayBuffer.isView(first) ? new first.constructor(length) : new Array(length);
      let at = 0;
      for (const part of parts) for (let i = 0; i < part.length; i += 1) out[at++] = part[i];
      columns[name] = out;
    }
    return new Frame([...like.names], columns, { ...like.dtypes }, length);
  }

  /** Row `i` as a plain object. */
  row(i) {
    const out = {};
    for (const name of this.names) out[name] = this.columns[name][i];
    return out;
  }
}

/** Python's order of two column values: numbers numerically, text by code point. */
export function compareValues(a, b) {
  if (typeof a === "string" && typeof b === "string") return pyCompare(a, b);
  return a < b ? -1 : a > b ? 1 : 0;
}

/** min/max of a numeric column (pandas `.min()`/`.max()`), as float64 values. */
export function minMax(values) {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i += 1) {
    const v = Number(values[i]);
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/** values[indices] for a typed array or a plain array. */
export function takeValues(values, indices) {
  const n = indices.length;
  const out = ArrayBuffer.isView(values) ? new values.constructor(n) : new Array(n);
  for (let i = 0; i < n; i += 1) out[i] = values[indices[i]];
  return out;
}
