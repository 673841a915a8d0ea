// Python's text rules, reproduced exactly for the browser engine: the error messages, links and
// numbers the engine writes must be the very texts the Python site writes (the conformance tests
// compare them byte for byte), so what Python does implicitly (`{x:g}`, `{x:.2f}`, `repr(text)`,
// `repr(float)`, `float(text)`, `str.strip()`, `sorted(strings)`, `text[:40]`) is spelled out here.
//
// Rounding is exact: a double's exact binary value is expanded with BigInt and rounded half to
// even, as CPython does (`Number.prototype.toFixed`/`toPrecision` round ties away from zero and
// would differ on e.g. 0.125 → '0.12' or 1234565 → '1.23456e+06').
//
// Unicode: character classes come from the JavaScript engine's Unicode tables, which may be a
// newer Unicode version than the Python that built the site; characters unassigned in Python's
// version can then differ (the only known difference).

/** The characters Python's `str.isspace()` (and the `\s` of `re`) accept. */
const PY_SPACE = "\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000";
const SPACE_SET = new Set(PY_SPACE);

/** Python's `str.isspace()` of one character. */
export function isPySpace(ch) {
  return SPACE_SET.has(ch);
}

/** Python's `text.strip()` (no argument): Unicode whitespace off both ends. */
export function pyStrip(text) {
  let start = 0;
  let end = text.length;
  while (start < end && SPACE_SET.has(text[start])) start += 1;
  while (end > start && SPACE_SET.has(text[end - 1])) end -= 1;
  return text.slice(start, end);
}

/** Python's `re.split(r"[,;\s]+", text)` pieces without the empty ones. */
export function splitGeneWords(text) {
  const words = [];
  let word = "";
  for (const ch of text) {
    if (ch === "," || ch === ";" || SPACE_SET.has(ch)) {
      if (word) words.push(word);
      word = "";
    } else {
      word += ch;
    }
  }
  if (word) words.push(word);
  return words;
}

/** Python's `text[:n]`: the first `n` code points (not UTF-16 units). */
export function pySlice(text, n) {
  let out = "";
  let count = 0;
  for (const ch of text) {
    if (count >= n) break;
    out += ch;
    count += 1;
  }
  return out;
}

/** Python's string order (`sorted`, `<`): by code point, not by UTF-16 unit. */
export function pyCompare(a, b) {
  if (a === b) return 0;
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done) return y.done ? 0 : -1;
    if (y.done) return 1;
    const cx = x.value.codePointAt(0);
    const cy = y.value.codePointAt(0);
    if (cx !== cy) return cx < cy ? -1 : 1;
  }
}

/** `sorted(strings)` */
export function pySorted(strings) {
  return [...strings].sort(pyCompare);
}

const NOT_PRINTABLE = /^[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]$/u;

function hex(cp, width) {
  return cp.toString(16).padStart(width, "0");
}

/** Python's `repr(text)` of a str: its quote choice and escapes (`str.isprintable` rules). */
export function pyRepr(text) {
  const s = String(text);
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0);
    if (ch === quote || ch === "\\") out += "\\" + ch;
    else if (ch === "\t") out += "\\t";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (cp < 0x20 || cp === 0x7f) out += "\\x" + hex(cp, 2);
    else if (cp < 0x7f || !NOT_PRINTABLE.test(ch)) out += ch;
    else if (cp <= 0xff) out += "\\x" + hex(cp, 2);
    else if (cp <= 0xffff) out += "\\u" + hex(cp, 4);
    else out += "\\U" + hex(cp, 8);
  }
  return out + quote;
}

// ------------------------------------------------------------------ exact decimal rounding

const VIEW = new DataView(new ArrayBuffer(8));

/** |x| = mantissa × 2^exponent exactly (x finite). */
function binary(x) {
  VIEW.setFloat64(0, x);
  const bits = VIEW.getBigUint64(0);
  let exponent = Number((bits >> 52n) & 0x7ffn);
  let mantissa = bits & ((1n << 52n) - 1n);
  if (exponent === 0) exponent = 1;
  else mantissa |= 1n << 52n;
  return { mantissa, exponent: exponent - 1075 };
}

/** round(|x| × 10^shift) to an integer, ties to even, exactly (x finite). */
function roundScaled(x, shift) {
  const { mantissa, exponent } = binary(x);
  let num = mantissa;
  let den = 1n;
  if (exponent >= 0) num <<= BigInt(exponent);
  else den <<= BigInt(-exponent);
  if (shift >= 0) num *= 10n ** BigInt(shift);
  else den *= 10n ** BigInt(-shift);
  const q = num / den;
  const twice = (num % den) * 2n;
  if (twice > den || (twice === den && q % 2n === 1n)) return q + 1n;
  return q;
}

/** The decimal exponent of |x|'s first significant digit (x finite, non-zero), exactly. */
function decimalExponent(x) {
  const { mantissa, exponent } = binary(x);
  if (exponent >= 0) return (mantissa << BigInt(exponent)).toString().length - 1;
  // |x| = mantissa × 5^k / 10^k
  const k = -exponent;
  return (mantissa * 5n ** BigInt(k)).toString().length - 1 - k;
}

function special(x) {
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  return null;
}

function negative(x) {
  return x < 0 || Object.is(x, -0);
}

/** Python's `f"{x:.{digits}f}"`. */
export function formatFixed(x, digits) {
  const sp = special(x);
  if (sp !== null) return sp;
  const n = roundScaled(x, digits).toString().padStart(digits + 1, "0");
  const whole = n.slice(0, n.length - digits);
  const text = digits > 0 ? `${whole}.${n.slice(n.length - digits)}` : whole;
  return (negative(x) ? "-" : "") + text;
}

function stripZeros(text) {
  return text.includes(".") ? text.replace(/0+$/, "").replace(/\.$/, "") : text;
}

function exponentText(e) {
  return (e < 0 ? "-" : "+") + String(Math.abs(e)).padStart(2, "0");
}

/** Python's `f"{x:g}"` (or `f"{x:.{precision}g}"`). */
export function formatG(x, precision = 6) {
  const sp = special(x);
  if (sp !== null) return sp;
  const p = precision === 0 ? 1 : precision;
  const sign = negative(x) ? "-" : "";
  if (x === 0) return sign + "0";
  let e = decimalExponent(x);
  let n = roundScaled(x, p - 1 - e).toString();
  if (n.length > p) {
    e += 1;
    n = n.slice(0, p);
  }
  if (e >= -4 && e < p) {
    const decimals = p - 1 - e;
    const padded = n.padStart(decimals + 1, "0");
    const whole = padded.slice(0, padded.length - decimals);
    const text = decimals > 0 ? `${whole}.${padded.slice(padded.length - decimals)}` : whole;
    return sign + stripZeros(text);
  }
  const mantissa = stripZeros(n.length > 1 ? `${n[0]}.${n.slice(1)}` : n);
  return `${sign}${mantissa}e${exponentText(e)}`;
}

/** Python's `repr(x)` of a float: the shortest text that reads back as `x`. */
export function pyFloatRepr(x) {
  const sp = special(x);
  if (sp !== null) return sp;
  const sign = negative(x) ? "-" : "";
  if (x === 0) return sign + "0.0";
  const [mant, exp] = Math.abs(x).toExponential().split("e");
  const digits = mant.replace(".", "");
  const e = Number(exp);
  if (e >= -4 && e < 16) {
    if (e < 0) return `${sign}0.${"0".repeat(-e - 1)}${digits}`;
    if (digits.length <= e + 1) return `${sign}${digits.padEnd(e + 1, "0")}.0`;
    return `${sign}${digits.slice(0, e + 1)}.${digits.slice(e + 1)}`;
  }
  const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  return `${sign}${m}e${exponentText(e)}`;
}

// ------------------------------------------------------------------ float(text)

const ND = /^\p{Nd}$/u;

/** The value of a Unicode decimal digit: digits come in runs of ten from 0 (Unicode's rule). */
function digitValue(ch) {
  let cp = ch.codePointAt(0);
  let start = cp;
  while (ND.test(String.fromCodePoint(start - 1))) start -= 1;
  return (cp - start) % 10;
}

const NUMBER = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const SPECIAL = /^([+-]?)(inf|infinity|nan)$/i;

/** Python's `float(text)` of a str: the number, or null where Python raises ValueError. */
export function pyFloat(text) {
  let ascii = "";
  for (const ch of String(text)) {
    const cp = ch.codePointAt(0);
    // CPython maps non-ASCII spaces and digits to ASCII; an ASCII character stays as it is
    // (so "\x1c1", a separator Python's isspace() accepts, is not a number)
    if (cp < 0x80) ascii += ch;
    else if (SPACE_SET.has(ch)) ascii += " ";
    else if (ND.test(ch)) ascii += String(digitValue(ch));
    else return null;
  }
  let s = ascii.replace(/^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g, "");
  if (s.includes("_")) {
    // underscores only between two digits (PEP 515)
    for (let i = 0; i < s.length; i += 1) {
      if (s[i] === "_" && !(/[0-9]/.test(s[i - 1] ?? "") && /[0-9]/.test(s[i + 1] ?? ""))) {
        return null;
      }
    }
    s = s.replaceAll("_", "");
  }
  const named = SPECIAL.exec(s);
  if (named) {
    if (named[2].toLowerCase() === "nan") return NaN;
    return named[1] === "-" ? -Infinity : Infinity;
  }
  if (!NUMBER.test(s)) return null;
  return Number(s);
}
