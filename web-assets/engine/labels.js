// Port of ctsite/figures/labels.py: label placement for the node-link figures (each node's name
// goes where it collides with nothing already placed, preferring the side with fewer edges).
// Sizes are estimated with CHAR_WIDTH × font size per character. Same names in camelCase, same
// results.

import { pyLen, pySplit } from "./py.js";

export const CHAR_WIDTH = 0.62; // average glyph width / font size, generous
export const LINE_HEIGHT = 1.25; // text box height / font size
export const GAP = 3.0; // pixels between a marker and its label
export const POSITIONS = ["middle right", "middle left", "top center", "bottom center"];

/** An axis-aligned rectangle in pixels (y grows downwards). */
export class Box {
  constructor(x0, y0, x1, y1) {
    this.x0 = x0;
    this.y0 = y0;
    this.x1 = x1;
    this.y1 = y1;
    Object.freeze(this);
  }

  overlaps(other) {
    return this.x0 < other.x1 && other.x0 < this.x1 && this.y0 < other.y1 && other.y0 < this.y1;
  }
}

/** Data → pixel mapping of a plot area (`xRange`, `yRange`: [lo, hi] pairs). */
export class Frame {
  constructor(xRange, yRange, width, height) {
    this.xRange = xRange;
    this.yRange = yRange;
    this.width = width;
    this.height = height;
    Object.freeze(this);
  }

  toPx(x, y) {
    const [x0, x1] = this.xRange;
    const [y0, y1] = this.yRange;
    return [((x - x0) / (x1 - x0)) * this.width, ((y1 - y) / (y1 - y0)) * this.height];
  }
}

/** Estimated [width, height] of a one-line label in pixels (markup tags not counted). */
export function textSize(text, fontSize) {
  const plain = text.replaceAll("<b>", "").replaceAll("</b>", "");
  return [pyLen(plain) * CHAR_WIDTH * fontSize, LINE_HEIGHT * fontSize];
}

export function markerBox(cx, cy, size) {
  const r = size / 2;
  return new Box(cx - r, cy - r, cx + r, cy + r);
}

/** Where Plotly draws `text` for a marker of diameter `size` at (cx, cy) and `position`. */
export function labelBox(cx, cy, size, text, fontSize, position) {
  const [w, h] = textSize(text, fontSize);
  const r = size / 2 + GAP;
  const parts = pySplit(position);
  if (parts.length !== 2) throw new Error(`position must have two words: '${position}'`);
  const [vertical, horizontal] = parts;
  let x0;
  if (horizontal === "right") x0 = cx + r;
  else if (horizontal === "left") x0 = cx - r - w;
  else x0 = cx - w / 2;
  let y0;
  if (vertical === "top") y0 = cy - r - h;
  else if (vertical === "bottom") y0 = cy + r;
  else y0 = cy - h / 2;
  return new Box(x0, y0, x0 + w, y0 + h);
}

/** A `textposition` per point: the preferred one unless it collides, else the first of
 * POSITIONS that does not (the preferred one when every choice collides). */
export function placeLabels(points, sizes, texts, preferred, frame, fontSize) {
  const n = points.length;
  if (sizes.length !== n || texts.length !== n || preferred.length !== n) {
    throw new Error("placeLabels: the lists differ in length");
  }
  const px = points.map(([x, y]) => frame.toPx(x, y));
  const markers = px.map(([cx, cy], i) => markerBox(cx, cy, sizes[i]));
  const placed = [];
  const out = [];
  for (let i = 0; i < n; i += 1) {
    const [cx, cy] = px[i];
    const first = preferred[i];
    let chosen = first;
    for (const position of [first, ...POSITIONS.filter((p) => p !== first)]) {
      const box = labelBox(cx, cy, sizes[i], texts[i], fontSize, position);
      const hits =
        placed.some((b) => box.overlaps(b)) || markers.some((m, j) => j !== i && box.overlaps(m));
      if (!hits) {
        chosen = position;
        break;
      }
    }
    placed.push(labelBox(cx, cy, sizes[i], texts[i], fontSize, chosen));
    out.push(chosen);
  }
  return out;
}
