// Port of ctsite/figures/text_metrics.py: how wide and how tall a label is drawn, from the one
// measured font table the Python figures read (ctsite/figures/data/label_font.json, bundled
// from its place in the package, never copied). A character missing from the table counts as
// wide as "M". Same names in camelCase, same results.

import table from "../../ctsite/figures/data/label_font.json" with { type: "json" };

export const FAMILY = "DejaVu Sans";
// where DejaVu Sans is missing, narrower fonts: labels end short of their reserved box
export const FONT_STACK = "'DejaVu Sans', Verdana, sans-serif";

let cached = null;

/** The shipped table: {size, regular, bold, height, baseline} (regular/bold: Maps). */
export function metrics() {
  if (cached) return cached;
  if (table.family !== FAMILY) {
    throw new Error(`label_font.json measures '${table.family}', not '${FAMILY}'`);
  }
  const widths = (part) => new Map(Object.entries(part).map(([k, v]) => [k, Number(v)]));
  cached = Object.freeze({
    size: Number(table.size),
    regular: widths(table.regular),
    bold: widths(table.bold),
    height: Number(table.height),
    baseline: Number(table.baseline),
  });
  return cached;
}

/** The drawn width (px) of one line of plain `text` at font size `size`. */
export function textWidth(text, size, bold = false) {
  const m = metrics();
  const widths = bold ? m.bold : m.regular;
  const wide = widths.get("M");
  let total = 0;
  for (const ch of text) {
    const w = widths.get(ch);
    total += w === undefined ? wide : w;
  }
  return (total * size) / m.size;
}

/** The height (px) of a line's box at font size `size` (what separates stacked labels). */
export function lineHeight(size) {
  const m = metrics();
  return (m.height * size) / m.size;
}

/** How far below the middle of its box a line's baseline sits (px). */
export function baselineOffset(size) {
  const m = metrics();
  return ((m.baseline - m.height / 2) * size) / m.size;
}
