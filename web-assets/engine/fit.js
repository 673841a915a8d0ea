// Port of ctsite/figures/fit.py: fitting the Pairwise and Effects figures to any screen (pixel
// margins as wide as their measured labels, colour bars below the plot, header ink that reads on
// its fill). Same names in camelCase, same results.

import { pyIntHex, pyLstrip, pyMax, pyRound, pyStrip, pyTruthy } from "./py.js";
import { textWidth } from "./svg_text.js";

export const INK_DARK = "#111111";
export const INK_LIGHT = "#ffffff";
export const SCALE_HEIGHT = 120; // px: one vertical colour bar below the plot
export const SCALE_GAP = 14; // px between the legend and the colour bars
export const SCALE_STEP = 0.5; // the second colour bar starts half the plot width further right
export const PHONE_FIGURE_WIDTH = 360; // px: the narrowest figure a page draws

function channel(value) {
  const c = value / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

function rgbOf(color) {
  let text = [...color.replace(/^#+/, "")]; // Python slices code points
  if (text.length === 3) text = text.flatMap((ch) => [ch, ch]);
  return [0, 2, 4].map((i) => pyIntHex(text.slice(i, i + 2).join("")));
}

/** WCAG relative luminance of a `#rrggbb` colour. */
export function luminance(color) {
  const [r, g, b] = rgbOf(color);
  return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
}

/** WCAG contrast ratio of two colours (1 to 21). */
export function contrast(a, b) {
  const la = luminance(a);
  const lb = luminance(b);
  const [hi, lo] = la < lb ? [lb, la] : [la, lb];
  return (hi + 0.05) / (lo + 0.05);
}

/** Black or white text, whichever reads better on `fill` (at least 4.5:1 for any fill). */
export function readableInk(fill) {
  return contrast(INK_DARK, fill) >= contrast(INK_LIGHT, fill) ? INK_DARK : INK_LIGHT;
}

/** `color` darkened (mixed with black) just enough to read on the white page at `ratio`. */
export function inkOnWhite(color, ratio = 4.5) {
  const rgb = rgbOf(color);
  for (let step = 0; step < 21; step += 1) {
    const keep = 1 - step / 20;
    const ink = `#${rgb.map((c) => pyRound(c * keep).toString(16).padStart(2, "0")).join("")}`;
    if (contrast(ink, INK_LIGHT) >= ratio) return ink;
  }
  return INK_DARK;
}

/** Pixels beside a column for its widest label (text beside a marker, plus padding). */
export function labelMargin(texts, size, marker, bold = false) {
  let widest = null;
  for (const t of texts) {
    const w = textWidth(t, size, bold);
    widest = widest === null ? w : pyMax(widest, w);
  }
  return pyRound((widest === null ? 0.0 : widest) * 1.1 + marker / 2 + 12);
}

/** `name` in lines of at most `width` px where it can break (after a space, a slash or a
 * hyphen); a word wider than that stays whole. */
export function wrapName(name, width, size, bold = true) {
  const words = name.match(/[^ /-]+(?:[/-]|$| )?|[ /-]/g) || [];
  const lines = [];
  let line = "";
  for (const word of words) {
    if (line && textWidth(pyStrip(line + word), size, bold) > width) {
      lines.push(pyStrip(line));
      line = pyLstrip(word);
    } else {
      line += word;
    }
  }
  if (pyStrip(line)) lines.push(pyStrip(line));
  return lines.length ? lines : [name];
}

/** The bottom margin `scalesBelow` gives: the legend, and the colour bars beside or under it. */
export function bottomMargin(legendHeight, bars, beside) {
  const scales = bars ? SCALE_GAP + SCALE_HEIGHT : 0;
  if (beside !== null && beside !== undefined) return pyMax(legendHeight, scales) + 10;
  return legendHeight + scales + 10;
}

/** Move every colour bar below the plot (under the legend, or right of it with `beside`);
 * changes `data`'s colour bars and `layout` in place, like the Python function. */
export function scalesBelow(data, layout, legendHeight, beside = null, orientation = "h") {
  const bars = [];
  for (const t of data) {
    const marker = pyTruthy(t.marker) ? t.marker : {};
    if (pyTruthy(marker.showscale) && "colorbar" in t.marker) bars.push(t.marker.colorbar);
  }
  if (!("margin" in layout)) layout.margin = {};
  const margin = layout.margin;
  const besideGiven = beside !== null && beside !== undefined;
  const [below, x0] = besideGiven ? [SCALE_GAP, beside] : [legendHeight + SCALE_GAP, 0.0];
  margin.b = pyMax(
    Math.trunc("b" in margin ? margin.b : 0),
    bottomMargin(legendHeight, bars.length > 0, beside),
  );
  const plotHeight = Number(layout.height) - Number("t" in margin ? margin.t : 0) - margin.b;
  bars.forEach((bar, i) => {
    if (plotHeight === 0) throw new RangeError("float division by zero");
    Object.assign(bar, {
      x: pyRound(x0 + i * SCALE_STEP, 3),
      xanchor: "left",
      y: pyRound(-below / plotHeight, 4),
      yanchor: "top",
      len: pyRound(SCALE_HEIGHT / plotHeight, 4),
      thickness: 10,
    });
  });
  layout.legend = {
    orientation,
    x: 0,
    xanchor: "left",
    y: 0,
    yanchor: "top",
    tracegroupgap: 6,
  };
}
