// Python's number and text primitives, reproduced exactly, for the engine's ports of the Python
// figure modules (ctsite/figures/). The figures' JSON must equal the Python builders' output, so
// every place the Python code rounds, formats, compares, strips or escapes goes through one of
// these instead of the JavaScript built-ins, which differ on the edges:
// - round(x, n) is correctly rounded with ties to even ON THE EXACT BINARY VALUE (round(2.675, 2)
//   is 2.67, round(0.125, 2) is 0.12); Number#toFixed breaks exact ties upwards;
// - numpy's np.round is NOT Python's round: it scales, rounds half-even and scales back (in
//   float32 for a float32 array);
// - format(x, ".3g") / ":g" / ".2e" / ".1f" and repr(float) have their own layouts;
// - max/min keep the first argument unless a later one compares greater/smaller (NaN never does);
// - `%` takes the divisor's sign; str.strip/isspace know other whitespace than String#trim;
// - html.escape and html.unescape (with the HTML5 named references and Python's numeric rules).
// Conventions of the ports: a JS `number` is a Python float, a `bigint` a Python int; None is
// `null`; a numpy float32 array is a Float32Array.

import { characterEntities } from "character-entities";
import { characterEntitiesLegacy } from "character-entities-legacy";

const view = new DataView(new ArrayBuffer(8));

/** The exact value of a finite |x| as `int × 10^exp` (BigInt int, exp ≤ 0 or 0). */
function exactDecimal(x) {
  const a = Math.abs(x);
  if (a === 0) return { int: 0n, exp: 0 };
  view.setFloat64(0, a);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e;
  if (biased === 0) {
    e = -1074;
  } else {
    mant |= 1n << 52n;
    e = biased - 1075;
  }
  while ((mant & 1n) === 0n && e < 0) {
    mant >>= 1n;
    e += 1;
  }
  if (e >= 0) return { int: mant << BigInt(e), exp: 0 };
  return { int: mant * 5n ** BigInt(-e), exp: e };
}

/** `int × 10^exp` rounded half-even to a multiple of 10^-places: the BigInt q of q × 10^-places. */
function roundPlaces(int, exp, places) {
  const shift = exp + places;
  if (shift >= 0) return int * 10n ** BigInt(shift);
  const div = 10n ** BigInt(-shift);
  let q = int / div;
  const r2 = (int % div) * 2n;
  if (r2 > div || (r2 === div && (q & 1n) === 1n)) q += 1n;
  return q;
}

function isNegative(x) {
  return x < 0 || Object.is(x, -0);
}

/** Python's round(x) (an int, ties to even) or round(x, ndigits) (a float).
 * @param {number} x @param {number} [ndigits] @returns {number} */
export function pyRound(x, ndigits) {
  if (ndigits === undefined || ndigits === null) {
    if (!Number.isFinite(x)) throw new Error("cannot convert float NaN or infinity to integer");
    return rint(x) + 0; // an int has no negative zero
  }
  if (!Number.isFinite(x)) return x;
  if (ndigits > 323) return x;
  if (ndigits < -308) return 0 * x;
  const sign = isNegative(x) ? "-" : "";
  const a = Math.abs(x);
  if (ndigits >= 0 && ndigits <= 99 && a < 1e21) {
    // toFixed is exact but breaks ties upwards: only a tie (n + 1 digits ending in 5) needs more
    const longer = a.toFixed(ndigits + 1);
    if (longer[longer.length - 1] !== "5" || Number(longer) !== a) {
      return Number(sign + a.toFixed(ndigits));
    }
  }
  const { int, exp } = exactDecimal(x);
  const q = roundPlaces(int, exp, ndigits);
  return Number(`${sign}${q}e${-ndigits}`);
}

/** C's rint: the nearest integer, ties to even, keeping the sign of zero. */
export function rint(x) {
  if (!Number.isFinite(x) || Math.abs(x) >= 4503599627370496) return x;
  const f = Math.floor(x);
  const d = x - f;
  let r;
  if (d < 0.5) r = f;
  else if (d > 0.5) r = f + 1;
  else r = f % 2 === 0 ? f : f + 1;
  return r === 0 && isNegative(x) ? -0 : r;
}

/** A power of ten as numpy's np.round makes it (exact up to 1e22), parsed once per exponent. */
const POWERS_OF_TEN = new Map();
function powerOfTen(n) {
  let p = POWERS_OF_TEN.get(n);
  if (p === undefined) {
    p = Number(`1e${n}`);
    POWERS_OF_TEN.set(n, p);
  }
  return p;
}

/** numpy's np.round(x, decimals) for a float64 value (scale, round half-even, scale back: not
 * Python's round, e.g. np.round(2.675, 2) is 2.68).
 * @param {number} x @param {number} [decimals] @returns {number} */
export function npRound(x, decimals = 0) {
  if (decimals >= 0) {
    const f = powerOfTen(decimals);
    return rint(x * f) / f;
  }
  const f = powerOfTen(-decimals);
  return rint(x / f) * f;
}

/** numpy's np.round(x, decimals) for a float32 value (every step rounded to float32). */
export function npRound32(x, decimals = 0) {
  const fr = Math.fround;
  if (decimals >= 0) {
    const f = fr(powerOfTen(decimals));
    return fr(rint(fr(fr(x) * f)) / f);
  }
  const f = fr(powerOfTen(-decimals));
  return fr(rint(fr(fr(x) / f)) * f);
}

/** Python's max(a, b): `a` unless `b` compares greater. */
export function pyMax(a, b) {
  return b > a ? b : a;
}

/** Python's min(a, b): `a` unless `b` compares smaller. */
export function pyMin(a, b) {
  return b < a ? b : a;
}

/** Python's float `a % b` (the result takes the sign of b). */
export function pyMod(a, b) {
  let mod = a % b;
  if (mod) {
    if (b < 0 !== mod < 0) mod += b;
  } else {
    mod = b < 0 || Object.is(b, -0) ? -0 : 0;
  }
  return mod;
}

/** Python's truth value of a JSON-like value (NaN is true, empty containers are false). */
export function pyTruthy(value) {
  if (value === null || value === undefined) return false;
  if (typeof value === "boolean") return value;
  if (typeof value === "number") return value !== 0;
  if (typeof value === "bigint") return value !== 0n;
  if (typeof value === "string") return value.length > 0;
  if (Array.isArray(value) || ArrayBuffer.isView(value)) return value.length > 0;
  if (value instanceof Map || value instanceof Set) return value.size > 0;
  return Object.keys(value).length > 0;
}

// ---- number formatting ------------------------------------------------------------------

/** Digits of |x| rounded half-even to `n` significant digits: [digits (n chars), decimal exponent
 * of the first digit]. */
function significant(x, n) {
  const a = Math.abs(x);
  if (a === 0) return ["0".repeat(n), 0];
  if (n <= 100) {
    const longer = a.toExponential(n);
    const mant = longer.slice(0, longer.indexOf("e"));
    // a tie needs exactly n + 1 significant digits ending in 5 (the value itself, so it reads
    // back as the same double): only then can JS (ties up) differ from Python (ties to even)
    if (mant[mant.length - 1] !== "5" || Number(longer) !== a) {
      const s = a.toExponential(n - 1);
      const at = s.indexOf("e");
      return [s.slice(0, at).replace(".", ""), Number(s.slice(at + 1))];
    }
  }
  const { int, exp } = exactDecimal(a);
  const len = int.toString().length;
  let top = len - 1 + exp; // exponent of the first digit
  let q = roundPlaces(int, exp, n - 1 - top);
  let digits = q.toString();
  if (digits.length > n) {
    top += 1;
    q = roundPlaces(int, exp, n - 1 - top);
    digits = q.toString();
  }
  return [digits, top];
}

/** Digits of |x| rounded half-even to `places` decimals, as an integer string (x × 10^places). */
function fixedDigits(x, places) {
  const a = Math.abs(x);
  if (a < 1e21 && places <= 99) {
    const longer = a.toFixed(places + 1);
    if (longer[longer.length - 1] !== "5" || Number(longer) !== a) {
      return a.toFixed(places).replace(".", "");
    }
  }
  const { int, exp } = exactDecimal(a);
  return roundPlaces(int, exp, places).toString();
}

function nonFinite(x) {
  if (Number.isNaN(x)) return "nan";
  return x > 0 ? "inf" : "-inf";
}

function exponent(e) {
  const text = String(Math.abs(e)).padStart(2, "0");
  return `e${e < 0 ? "-" : "+"}${text}`;
}

/** Python's format(x, f".{precision}f").
 * @param {number} x @param {number} [precision] @returns {string} */
export function formatF(x, precision = 6) {
  if (!Number.isFinite(x)) return nonFinite(x);
  const sign = isNegative(x) ? "-" : "";
  let digits = fixedDigits(x, precision);
  if (precision === 0) return sign + digits;
  digits = digits.padStart(precision + 1, "0");
  const cut = digits.length - precision;
  return `${sign}${digits.slice(0, cut)}.${digits.slice(cut)}`;
}

/** Python's format(n, ",") of an integer: thousands separated by commas (no Intl: a
 * NumberFormat made per call cost ~5 ms of a view).
 * @param {number} n @returns {string} */
export function formatThousands(n) {
  const digits = String(Math.abs(Math.trunc(n)));
  const grouped = digits.replace(/\B(?=(\d{3})+$)/g, ",");
  return n < 0 ? `-${grouped}` : grouped;
}

/** Python's format(x, f".{precision}e").
 * @param {number} x @param {number} [precision] @returns {string} */
export function formatE(x, precision = 6) {
  if (!Number.isFinite(x)) return nonFinite(x);
  const sign = isNegative(x) ? "-" : "";
  const [digits, top] = significant(x, precision + 1);
  const mant = precision === 0 ? digits : `${digits[0]}.${digits.slice(1)}`;
  return sign + mant + exponent(x === 0 ? 0 : top);
}

/** Python's format(x, f".{precision}g") (`:g` is precision 6).
 * @param {number} x @param {number} [precision] @returns {string} */
export function formatG(x, precision = 6) {
  if (!Number.isFinite(x)) return nonFinite(x);
  const p = precision === 0 ? 1 : precision;
  const sign = isNegative(x) ? "-" : "";
  let [digits, top] = significant(x, p);
  if (x === 0) top = 0;
  digits = digits.replace(/0+$/, "") || "0";
  if (top >= -4 && top < p) {
    return sign + placeDigits(digits, top + 1);
  }
  const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  return sign + mant + exponent(top);
}

/** `digits` with the decimal point after `point` of them (no trailing '.0'). */
function placeDigits(digits, point) {
  if (point <= 0) return `0.${"0".repeat(-point)}${digits}`;
  if (point >= digits.length) return digits + "0".repeat(point - digits.length);
  return `${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** Python's repr(x) / str(x) of a float: the shortest round-trip digits, Python's layout.
 * @param {number} x @returns {string} */
export function pyFloatRepr(x) {
  if (!Number.isFinite(x)) return nonFinite(x);
  const sign = isNegative(x) ? "-" : "";
  if (x === 0) return `${sign}0.0`;
  const s = Math.abs(x).toExponential();
  const at = s.indexOf("e");
  const digits = s.slice(0, at).replace(".", "");
  const point = Number(s.slice(at + 1)) + 1; // Python's decpt
  if (point > -4 && point <= 16) {
    const text = placeDigits(digits, point);
    return sign + (text.includes(".") ? text : `${text}.0`);
  }
  const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  return sign + mant + exponent(point - 1);
}

/** Python's str(value) for the values the figures print (bigint: int, number: float). */
export function pyStr(value) {
  if (value === null || value === undefined) return "None";
  if (typeof value === "boolean") return value ? "True" : "False";
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") return pyFloatRepr(value);
  return String(value);
}

// ---- text ---------------------------------------------------------------------------------

// str.isspace() of Python: bidi classes WS, B, S and category Zs
const SPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004" +
  "\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000";
const SPACES = new Set(SPACE);

/** Python's ch.isspace() for one character. */
export function isSpace(ch) {
  return SPACES.has(ch);
}

/** Python's s.strip() (no argument). */
export function pyStrip(text) {
  return pyRstrip(pyLstrip(text));
}

/** Python's s.lstrip() (no argument). */
export function pyLstrip(text) {
  let i = 0;
  while (i < text.length && SPACES.has(text[i])) i += 1;
  return text.slice(i);
}

/** Python's s.rstrip() (no argument). */
export function pyRstrip(text) {
  let j = text.length;
  while (j > 0 && SPACES.has(text[j - 1])) j -= 1;
  return text.slice(0, j);
}

/** Python's s.split() (no argument): runs of whitespace separate, none kept. */
export function pySplit(text) {
  const out = [];
  let word = "";
  for (const ch of text) {
    if (SPACES.has(ch)) {
      if (word) out.push(word);
      word = "";
    } else {
      word += ch;
    }
  }
  if (word) out.push(word);
  return out;
}

/** Python's len(s): code points, not UTF-16 units. */
export function pyLen(text) {
  let n = 0;
  for (const _ of text) n += 1;
  return n;
}

/** Python's html.escape(s, quote). */
export function htmlEscape(text, quote = true) {
  if (!(quote ? /[&<>"']/ : /[&<>]/).test(text)) return text; // (most names: nothing to escape)
  let out = text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
  if (quote) out = out.replaceAll('"', "&quot;").replaceAll("'", "&#x27;");
  return out;
}

// html.unescape's tables (CPython Lib/html/__init__.py)
const INVALID_CHARREFS = new Map([
  [0x00, "\ufffd"], [0x0d, "\r"], [0x80, "\u20ac"], [0x81, "\x81"], [0x82, "\u201a"],
  [0x83, "\u0192"], [0x84, "\u201e"], [0x85, "\u2026"], [0x86, "\u2020"], [0x87, "\u2021"],
  [0x88, "\u02c6"], [0x89, "\u2030"], [0x8a, "\u0160"], [0x8b, "\u2039"], [0x8c, "\u0152"],
  [0x8d, "\x8d"], [0x8e, "\u017d"], [0x8f, "\x8f"], [0x90, "\x90"], [0x91, "\u2018"],
  [0x92, "\u2019"], [0x93, "\u201c"], [0x94, "\u201d"], [0x95, "\u2022"], [0x96, "\u2013"],
  [0x97, "\u2014"], [0x98, "\u02dc"], [0x99, "\u2122"], [0x9a, "\u0161"], [0x9b, "\u203a"],
  [0x9c, "\u0153"], [0x9d, "\x9d"], [0x9e, "\u017e"], [0x9f, "\u0178"],
]); // prettier-ignore

function invalidCodepoint(n) {
  return (
    (n >= 0x1 && n <= 0x8) ||
    (n >= 0xe && n <= 0x1f) ||
    (n >= 0x7f && n <= 0x9f) ||
    (n >= 0xfdd0 && n <= 0xfdef) ||
    n === 0xb ||
    (n & 0xfffe) === 0xfffe
  );
}

/** Python's html.entities.html5: every named reference with ';', and the legacy ones without. */
const HTML5 = new Map();
for (const [name, value] of Object.entries(characterEntities)) HTML5.set(`${name};`, value);
for (const name of characterEntitiesLegacy) HTML5.set(name, characterEntities[name]);

export { HTML5 as html5Entities };

const CHARREF = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/gu;

function replaceCharref(_match, s) {
  if (s[0] === "#") {
    const hex = s[1] === "x" || s[1] === "X";
    const body = s.slice(hex ? 2 : 1).replace(/;$/, "");
    const big = BigInt(hex ? `0x${body}` : body);
    const n = big > 0x10ffffn ? 0x110000 : Number(big);
    if (INVALID_CHARREFS.has(n)) return INVALID_CHARREFS.get(n);
    if ((n >= 0xd800 && n <= 0xdfff) || n > 0x10ffff) return "\ufffd";
    if (invalidCodepoint(n)) return "";
    return String.fromCodePoint(n);
  }
  if (HTML5.has(s)) return HTML5.get(s);
  // the longest name the standard allows (at least two characters; Python slices code points)
  const chars = [...s];
  for (let x = chars.length - 1; x > 1; x -= 1) {
    const head = chars.slice(0, x).join("");
    if (HTML5.has(head)) return HTML5.get(head) + chars.slice(x).join("");
  }
  return `&${s}`;
}

/** Python's html.unescape(s). */
export function htmlUnescape(text) {
  if (!text.includes("&")) return text;
  return text.replace(CHARREF, replaceCharref);
}

// ---- float() of a text ----------------------------------------------------------------------

const DECIMAL = /\p{Nd}/u;

/** The value of a Unicode decimal digit (they come in runs of ten, 0 to 9, in order). */
function digitValue(ch) {
  let cp = ch.codePointAt(0);
  let start = cp;
  while (DECIMAL.test(String.fromCodePoint(start - 1))) start -= 1;
  cp -= start;
  return String(cp % 10);
}

/** A number's text as CPython reads it (float(), int()): non-ASCII spaces and decimal digits
 * mapped to ASCII, an ASCII character kept as it is — so "\x1c1" (a separator str.isspace()
 * accepts) is no number, and "٣٣" is 33. */
function asciiNumber(value) {
  let text = "";
  for (const ch of value) {
    if (ch <= "\x7f") text += ch;
    else if (SPACES.has(ch)) text += " ";
    else if (DECIMAL.test(ch)) text += digitValue(ch);
    else text += ch;
  }
  return text;
}

const DIGITS = "[0-9](?:_?[0-9])*";
const FLOAT_TEXT = new RegExp(
  `^[+-]?(?:(?:(?:${DIGITS})?\\.${DIGITS}|${DIGITS}\\.?)(?:[eE][+-]?${DIGITS})?|inf|infinity|nan)$`,
  "i",
);

/** Python's float(value) for a number, an int (bigint), a bool or a text; throws like Python. */
export function pyFloat(value) {
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value !== "string") {
    throw new TypeError(`float() argument must be a string or a real number`);
  }
  let text = asciiNumber(value);
  text = text.replace(/^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g, "");
  if (!FLOAT_TEXT.test(text)) {
    throw new RangeError(`could not convert string to float: ${value}`);
  }
  const lower = text.toLowerCase().replace(/^[+-]/, "");
  const negative = text[0] === "-";
  if (lower === "nan") return NaN;
  if (lower === "inf" || lower === "infinity") return negative ? -Infinity : Infinity;
  return Number(text.replaceAll("_", ""));
}

/** Python's `float(text)` of a str: the number, or null where Python raises ValueError. */
export function floatOrNull(text) {
  try {
    return pyFloat(String(text));
  } catch {
    return null;
  }
}

const HEX_TEXT = /^[+-]?(?:0[xX]_?)?[0-9a-fA-F]+(?:_[0-9a-fA-F]+)*$/;

/** Python's int(text, 16) (throws where Python raises ValueError). */
export function pyIntHex(text) {
  const t = pyStrip(asciiNumber(text));
  if (!HEX_TEXT.test(t)) throw new RangeError(`invalid literal for int() with base 16: '${text}'`);
  const negative = t[0] === "-";
  const digits = t.replace(/^[+-]/, "").replace(/^0[xX]/, "").replaceAll("_", "");
  const value = parseInt(digits, 16);
  return negative ? -value : value;
}

// ------------------------------------------------------------------ text (the engine's params and store)

/** Python's `re.split(r"[,;\s]+", text)` pieces without the empty ones. */
export function splitGeneWords(text) {
  const words = [];
  let word = "";
  for (const ch of text) {
    if (ch === "," || ch === ";" || SPACES.has(ch)) {
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
