// Array helpers that walk by index. (`Array.from(values, fn)` over a typed array walks its
// iterator, an object per element: at a study-scale view, megabytes of garbage per view.)

/** `fn(value, index)` of each element of `values`, in an Array (`Array.from(values, fn)`).
 * @template T, U @param {ArrayLike<T> | Iterable<T>} values @param {(v: T, i: number) => U} fn
 * @returns {U[]} */
export function mapArray(values, fn) {
  if (typeof values.length !== "number") return Array.from(values, fn);
  const n = values.length;
  const out = new Array(n);
  for (let i = 0; i < n; i += 1) out[i] = fn(values[i], i);
  return out;
}

/** `fn(value, index)` of each element of `values`, in a Float64Array
 * (`Float64Array.from(values, fn)`).
 * @template T @param {ArrayLike<T> | Iterable<T>} values @param {(v: T, i: number) => number} fn
 * @returns {Float64Array} */
export function mapFloat64(values, fn) {
  if (typeof values.length !== "number") return Float64Array.from(values, fn);
  const n = values.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i += 1) out[i] = fn(values[i], i);
  return out;
}
