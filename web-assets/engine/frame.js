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
// Frames are immutable by convention: `take`, `filter` and `select` return new frames.

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

  /** The rows where `mask` is true (`df[mask]`, index reset). */
  filter(mask) {
    const indices = [];
    for (let i = 0; i < this.length; i += 1) if (mask[i]) indices.push(i);
    return this.take(indices);
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

  /** Row `i` as a plain object. */
  row(i) {
    const out = {};
    for (const name of this.names) out[name] = this.columns[name][i];
    return out;
  }
}

/** values[indices] for a typed array or a plain array. */
export function takeValues(values, indices) {
  const n = indices.length;
  const out = ArrayBuffer.isView(values) ? new values.constructor(n) : new Array(n);
  for (let i = 0; i < n; i += 1) out[i] = values[indices[i]];
  return out;
}
