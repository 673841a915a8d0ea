// A reader for the NumPy `.npy` files the compiled store writes (format 1.0–3.0): one-dimensional
// or C-ordered arrays of little-endian int32, int64, float32 or float64. Anything else (another
// dtype, big-endian, Fortran order, a truncated file) is refused with a reason, never misread.
// Values come back as a Float64Array (int64 must stay below 2^53, float32 is widened exactly) or
// an Int32Array for int32, plus the dtype name and shape.

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
const DTYPES = {
  "<i4": { name: "int32", size: 4 },
  "<i8": { name: "int64", size: 8 },
  "<f4": { name: "float32", size: 4 },
  "<f8": { name: "float64", size: 8 },
};

export class NpyError extends Error {}

/**
 * @param {ArrayBuffer|Uint8Array} data the file's bytes
 * @returns {{dtype: string, shape: number[], values: Float64Array|Int32Array}}
 */
export function readNpy(data) {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new NpyError("not a .npy file (no \\x93NUMPY header)");
  }
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLength;
  let start;
  if (major === 1) {
    headerLength = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new NpyError("truncated .npy header");
    headerLength = view.getUint32(8, true);
    start = 12;
  } else {
    throw new NpyError(`unsupported .npy format version ${major}`);
  }
  if (start + headerLength > bytes.length) throw new NpyError("truncated .npy header");
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(
    bytes.subarray(start, start + headerLength),
  );
  const descr = /'descr':\s*'([^']*)'/.exec(header);
  const fortran = /'fortran_order':\s*(True|False)/.exec(header);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shapeText) throw new NpyError(`malformed .npy header ${header}`);
  const dtype = DTYPES[descr[1]];
  if (!dtype) throw new NpyError(`unsupported .npy dtype ${descr[1]}`);
  const shape = shapeText[1]
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map((s) => {
      if (!/^[0-9]+$/.test(s)) throw new NpyError(`malformed .npy shape (${shapeText[1]})`);
      return Number(s);
    });
  if (fortran[1] === "True" && shape.filter((n) => n > 1).length > 1) {
    throw new NpyError("Fortran-ordered .npy arrays are not supported");
  }
  const count = shape.reduce((a, b) => a * b, 1);
  const offset = start + headerLength;
  if (bytes.length - offset !== count * dtype.size) {
    throw new NpyError(
      `.npy data is ${bytes.length - offset} bytes, its header implies ${count * dtype.size}`,
    );
  }
  // a copy: the data may not be aligned for a typed array view
  const raw = bytes.slice(offset, offset + count * dtype.size).buffer;
  let values;
  if (dtype.name === "int32") values = new Int32Array(raw);
  else if (dtype.name === "float32") values = Float64Array.from(new Float32Array(raw));
  else if (dtype.name === "float64") values = new Float64Array(raw);
  else {
    const big = new BigInt64Array(raw);
    values = new Float64Array(count);
    for (let i = 0; i < count; i += 1) {
      const v = big[i];
      if (v > 9007199254740991n || v < -9007199254740991n) {
        throw new NpyError(`int64 value ${v} is beyond 2^53`);
      }
      values[i] = Number(v);
    }
  }
  return { dtype: dtype.name, shape, values };
}
