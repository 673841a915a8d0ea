// Port of the text primitives of ctsite/figures/preview/svg.py: compact numbers, escaped
// attributes and text, Plotly's text markup made plain, and the estimate of how wide a text is
// drawn (what fit.py reserves margins with). Same names in camelCase, same results.

import { formatF, htmlEscape, htmlUnescape, pyStr, pySplit, pyTruthy } from "./py.js";

export const NOMINAL_WIDTH = 900; // px: the width the picture is laid out for
export const FONT_FAMILY =
  "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif";
// a white outline behind a text (painted first), keeping it readable over lines and bars
export const HALO = 'stroke="#ffffff" stroke-width="3" stroke-linejoin="round" paint-order="stroke"';
const TAG = /<[^>]*>/g;
const NARROW = new Set("iljtfrI.,:;'|! ");
const WIDE = new Set("mwMW@%");

function rstripChars(text, chars) {
  let j = text.length;
  while (j > 0 && chars.includes(text[j - 1])) j -= 1;
  return text.slice(0, j);
}

/** A coordinate or size, compactly (one decimal). */
export function num(value) {
  const text = rstripChars(rstripChars(formatF(value, 1), "0"), ".");
  return text === "-0" || text === "" ? "0" : text;
}

/** An opacity (two decimals). */
export function alpha(value) {
  return rstripChars(rstripChars(formatF(value, 2), "0"), ".") || "0";
}

/** A value escaped for a quoted attribute. */
export function attr(value) {
  return htmlEscape(pyStr(value), true);
}

/** A text escaped for the content of an element. */
export function escapeText(text) {
  return htmlEscape(text, false);
}

/** Plotly's text markup (`<b>`, `<br>`, entities) → [plain text, whether it is bold]. */
export function plainText(text) {
  const raw = pyTruthy(text) ? pyStr(text) : "";
  const bold = raw.toLowerCase().includes("<b>");
  const plain = htmlUnescape(raw.replaceAll("<br>", " ").replace(TAG, " "));
  return [pySplit(plain).join(" "), bold];
}

/** An estimate of the rendered width of `text` in a sans-serif font. */
export function textWidth(text, size, bold = false) {
  let units = 0;
  for (const ch of text) units += NARROW.has(ch) ? 0.3 : WIDE.has(ch) ? 0.88 : 0.6;
  return units * size * (bold ? 1.12 : 1.0);
}

/** How far below y the text's baseline goes for y to be its "middle", "top" or "bottom". */
export function baselineShift(size, baseline) {
  const shifts = { middle: size * 0.35, top: size * 0.8, bottom: -size * 0.2 };
  if (!Object.hasOwn(shifts, baseline)) throw new Error(`KeyError: '${baseline}'`);
  return shifts[baseline];
}

/** One <text> (`color` must be checked already, `extra` is trusted markup). */
export function textElement(
  x, y, text, size, color,
  { anchor = "start", bold = false, baseline = "middle", halo = false, extra = "" } = {},
) { // prettier-ignore
  const attrs = [
    `x="${num(x)}" y="${num(y + baselineShift(size, baseline))}"`,
    `font-size="${num(size)}"`,
    `fill="${color}"`,
  ];
  if (anchor !== "start") attrs.push(`text-anchor="${anchor}"`);
  if (bold) attrs.push('font-weight="bold"');
  if (halo) attrs.push(HALO);
  if (extra) attrs.push(extra);
  return `<text ${attrs.join(" ")}>${escapeText(text)}</text>`;
}
