// Port of ctsite/figures/colors.py: the figures' colour scales and the helpers that map values
// onto them (Plotly colourscale lists, so one definition drives the computed colours and the
// colour bars). Same names in camelCase, same results.

import { formatG, pyIntHex, pyMax, pyMin, pyRound } from "./py.js";

// Cividis, as in matplotlib/Plotly (10 stops).
export const CIVIDIS = [
  "#00224e",
  "#123570",
  "#3b496c",
  "#575d6d",
  "#707173",
  "#8a8678",
  "#a59c74",
  "#c3b369",
  "#e1cc55",
  "#fee838",
];
// Diverging red–blue (ColorBrewer RdBu reversed: negative blue, positive red).
export const RED_BLUE = [
  "#053061",
  "#2166ac",
  "#4393c3",
  "#92c5de",
  "#d1e5f0",
  "#f7f7f7",
  "#fddbc7",
  "#f4a582",
  "#d6604d",
  "#b2182b",
  "#67001f",
];
// Blue–white–red (matplotlib "bwr").
export const BLUE_WHITE_RED = ["#0000ff", "#ffffff", "#ff0000"];
// White (0 %) to black (100 %).
export const GREYS = ["#ffffff", "#000000"];

// Value ranges of the spec (values outside are clipped to the end colours).
export const DC1_RANGE = [-1.0, 1.0];
export const DA_RANGE = [-0.5, 0.5];
export const LIGAND_LOG2FC_RANGE = [-0.2, 0.2];
export const INDUCED_LOG2FC_RANGE = [-0.5, 0.5];
export const EXPRESSION_RANGE = [0.0, 1.0];

/** Evenly spaced colour stops as a Plotly colourscale. */
export function colorscale(colors) {
  const n = colors.length - 1;
  if (n === 0) throw new RangeError("division by zero");
  return colors.map((c, i) => [i / n, c]);
}

function rgb(color) {
  const c = [...color.replace(/^#+/, "")]; // Python slices code points
  return [0, 2, 4].map((i) => pyIntHex(c.slice(i, i + 2).join("")));
}

function hex2(value) {
  return pyRound(value).toString(16).padStart(2, "0");
}

function hex(r, g, b) {
  return `#${hex2(r)}${hex2(g)}${hex2(b)}`;
}

/** Position of value in [lo, hi], clipped to [0, 1]; NaN maps to the middle. */
export function fraction(value, lo, hi) {
  if (value === null || value === undefined || Number.isNaN(value)) return 0.5;
  if (hi <= lo) return 0.5;
  return pyMin(1.0, pyMax(0.0, (value - lo) / (hi - lo)));
}

/** The colour of `value` on an evenly spaced scale over [lo, hi] (linear interpolation). */
export function sample(colors, value, lo, hi) {
  const pos = fraction(value, lo, hi) * (colors.length - 1);
  const i = pyMin(Math.trunc(pos), colors.length - 2);
  const t = pos - i;
  const a = rgb(colors.at(i));
  const b = rgb(colors.at(i + 1));
  return hex(...[0, 1, 2].map((k) => a[k] + (b[k] - a[k]) * t));
}

/** Which of `bins` equal colour bins over [lo, hi] holds `value` (clipped). */
export function binIndex(value, lo, hi, bins) {
  return pyMin(bins - 1, Math.trunc(fraction(value, lo, hi) * bins));
}

/** The colour at the centre of each of `bins` equal bins over [lo, hi]. */
export function binColors(colors, lo, hi, bins) {
  if (bins === 0) throw new RangeError("division by zero");
  const step = (hi - lo) / bins;
  return Array.from({ length: Math.max(0, bins) }, (_, i) =>
    sample(colors, lo + (i + 0.5) * step, lo, hi),
  );
}

/** '#rrggbb' → 'rgba(r,g,b,alpha)'. */
export function withAlpha(color, alpha) {
  const [r, g, b] = rgb(color);
  return `rgba(${r},${g},${b},${formatG(alpha)})`;
}
