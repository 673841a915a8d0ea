// A figure's table as the server's CSV: the bytes of pandas'
// `DataFrame.to_csv(index=False, lineterminator="\n")` (ctsite/web/cache.py), so a CSV saved
// from the static site equals the server's for the same view.
//
// pandas writes a float64 as Python's repr, a float32 as numpy's str of a float32 (its own
// shortest digits, positional only from 1e-4 up to 1e6), booleans as True/False, missing
// values as nothing, and quotes a field holding a comma, a quote or a line break.

/** The shortest decimal digits and exponent of `x` that read back as `x` in its own width. */
function shortest(x, float32) {
  if (!float32) {
    const [mantissa, exp] = x.toExponential().split("e");
    return { digits: mantissa.replace(".", "").replace("-", ""), exponent: Number(exp) };
  }
  for (let p = 1; p <= 9; p++) {
    const text = x.toExponential(p - 1);
    if (Math.fround(Number(text)) === x) {
      const [mantissa, exp] = text.split("e");
      return {
        digits: mantissa.replace(".", "").replace("-", "").replace(/0+$/, "") || "0",
        exponent: Number(exp),
      };
    }
  }
  throw new Error(`no float32 digits for ${x}`);
}

/** Digits placed as Python/numpy write them: `123.45`, `1.0`, `0.0001`, `1e-05`, `1.5e+16`. */
function place(negative, digits, exponent, positional) {
  const sign = negative ? "-" : "";
  if (positional) {
    let text;
    if (exponent < 0) {
      text = `0.${"0".repeat(-exponent - 1)}${digits}`;
    } else if (digits.length <= exponent + 1) {
      text = `${digits}${"0".repeat(exponent + 1 - digits.length)}.0`;
    } else {
      text = `${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`;
    }
    return sign + text;
  }
  const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const e = Math.abs(exponent);
  return `${sign}${mantissa}e${exponent < 0 ? "-" : "+"}${e < 10 ? "0" : ""}${e}`;
}

/** Python's `repr(float)` (float32: numpy's `str(np.float32)`), `nan`/`inf` as pandas never
 * writes them here (missing → ""). */
export function floatText(x, float32 = false) {
  if (Number.isNaN(x)) return "";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const { digits, exponent } = shortest(Math.abs(x), float32);
  const magnitude = Math.abs(x);
  const positional = magnitude >= 1e-4 && magnitude < (float32 ? 1e6 : 1e16);
  return place(x < 0, digits, exponent, positional);
}

function field(value, column) {
  if (value === null || value === undefined) return "";
  if (typeof value === "boolean") return value ? "True" : "False";
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") {
    if (column instanceof Float32Array) return floatText(value, true);
    if (column instanceof Float64Array || !Number.isInteger(value) || column.isFloat) {
      return floatText(value);
    }
    return String(value);
  }
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The CSV text of a table (`frame.js`): a header line, then one line per row. */
export function toCsv(t) {
  const names = Object.keys(t.columns);
  const lines = [names.map((n) => field(n, [])).join(",")];
  for (let i = 0; i < t.length; i++) {
    lines.push(names.map((n) => field(t.columns[n][i], t.columns[n])).join(","));
  }
  return `${lines.join("\n")}\n`;
}
