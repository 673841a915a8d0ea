// Port of ctsite/figures/circos_labels.py: where the Circos figure's words go — radial gene
// labels that never collide (spread within their sectors by a bounded isotonic fit, the
// strongest kept when there is no room) and cell-type names that never overlap or leave the
// picture, in pixels of the figure as drawn for a width class. Every width is measured with the
// one measured font (text_metrics.js). Same names in camelCase, same results.

import { SECTOR_GAP, degrees, radians } from "./geometry.js";
import { pyMin, pyMod } from "./py.js";
import { lineHeight, textWidth } from "./text_metrics.js";

// Chromium rounds a text box's ascent and descent to whole pixels: each box reserves 1.2 px
export const LABEL_PAD = 1.2;
export const NAME_GAP = 4.0; // px between the sector ring and the first line of names
export const EDGE = 2.0; // px kept free at the picture's edge
export const MAX_NAME_LINES = 3;

/** The figure as drawn for one kind of screen (see the Python WidthClass). */
export class WidthClass {
  constructor({
    name, width, height, circle, labelSizes, nameSize, chord, hist, da, dc1, text, bandEnd,
    minLabelSize, sector = [1.0, 1.04], media = "",
  }) { // prettier-ignore
    Object.assign(this, {
      name, width, height, circle, labelSizes, nameSize, chord, hist, da, dc1, text, bandEnd,
      minLabelSize, sector, media,
    }); // prettier-ignore
    Object.freeze(this);
  }

  /** A leader runs radially from just outside the dc1 ring to `knee`, then to the text. */
  get leader() {
    const start = this.dc1[1] + 0.005;
    return [start, start + (this.text - start) * 0.45];
  }
}

export const DESKTOP = new WidthClass({
  name: "desktop", width: 960, height: 820, circle: 820, labelSizes: [10.0, 9.0, 8.0],
  nameSize: 12.0, minLabelSize: 5.0,
  chord: 0.55, hist: [0.56, 0.65], da: [0.66, 0.7], dc1: [0.71, 0.75], text: 0.8, bandEnd: 0.985,
}); // prettier-ignore
export const TABLET = new WidthClass({
  name: "tablet", width: 680, height: 540, circle: 540, labelSizes: [9.0, 8.0], nameSize: 11.0,
  minLabelSize: 6.0, media: "(max-width: 1279px)",
  chord: 0.52, hist: [0.53, 0.62], da: [0.63, 0.67], dc1: [0.68, 0.72], text: 0.77, bandEnd: 0.985,
}); // prettier-ignore
export const PHONE = new WidthClass({
  name: "phone", width: 340, height: 490, circle: 340, labelSizes: [9.5], nameSize: 10.0,
  minLabelSize: 9.5, media: "(max-width: 640px)",
  chord: 0.4, hist: [0.41, 0.48], da: [0.49, 0.52], dc1: [0.53, 0.56], text: 0.6, bandEnd: 0.985,
}); // prettier-ignore
export const WIDTH_CLASSES = { desktop: DESKTOP, tablet: TABLET, phone: PHONE };

/**
 * @typedef {{text: string, theta: number, sector: number, highlighted: boolean,
 *   strength: number, bold: boolean}} Candidate
 * @typedef {{name: string, start: number, end: number, count: number}} SectorLike
 */

/** A chord end that wants a label: its text, slot angle, sector (index) and priority.
 * @param {Partial<Candidate> & {text: string, theta: number, sector: number}} fields
 * @returns {Candidate} */
export function candidate({ text, theta, sector, highlighted = false, strength = 0.0, bold = false }) {
  return Object.freeze({ text, theta, sector, highlighted, strength, bold });
}

/** A text drawn at `centre` (px, y down), turned `angle` degrees clockwise, with the box
 * (`width` × `height` px) the layout keeps free for it. */
export class Placed {
  constructor(text, centre, angle, width, height, size, bold) {
    Object.assign(this, { text, centre, angle, width, height, size, bold });
    Object.freeze(this);
  }

  /** The four corners of the turned box (px). */
  corners() {
    const [cx, cy] = this.centre;
    const a = radians(this.angle);
    const ux = Math.cos(a);
    const uy = Math.sin(a);
    const vx = -uy;
    const vy = ux;
    const hw = this.width / 2;
    const hh = this.height / 2;
    return [
      [-1, -1],
      [1, -1],
      [1, 1],
      [-1, 1],
    ].map(([sx, sy]) => [
      cx + sx * hw * ux + sy * hh * vx,
      cy + sx * hw * uy + sy * hh * vy,
    ]);
  }
}

export class GeneLabel {
  constructor(placed, index, theta, phi) {
    Object.assign(this, { placed, index, theta, phi });
    Object.freeze(this);
  }
}

/** Where everything goes for one width class (see the Python CircosLayout). */
export class CircosLayout {
  constructor(widthClass, centre, radius, labels, leftOut, names, labelSize) {
    Object.assign(this, { widthClass, centre, radius, labels, leftOut, names, labelSize });
    Object.freeze(this);
  }

  /** Polar (r in sector-ring radii, theta clockwise from the top) → px. */
  point(r, theta) {
    const a = radians(theta);
    return [
      this.centre[0] + r * this.radius * Math.sin(a),
      this.centre[1] - r * this.radius * Math.cos(a),
    ];
  }
}

function maxOf(values) {
  let m = values[0];
  for (const v of values) if (v > m) m = v;
  return m;
}

function minOf(values) {
  let m = values[0];
  for (const v of values) if (v < m) m = v;
  return m;
}

/** Whether two convex polygons overlap (separating axis test; touching is not overlap).
 * @param {number[][]} a @param {number[][]} b @returns {boolean} */
export function overlap(a, b) {
  for (const poly of [a, b]) {
    for (let i = 0; i < poly.length; i += 1) {
      const [x0, y0] = poly[i];
      const [x1, y1] = poly[(i + 1) % poly.length];
      const nx = y0 - y1;
      const ny = x1 - x0;
      const pa = a.map(([x, y]) => nx * x + ny * y);
      const pb = b.map(([x, y]) => nx * x + ny * y);
      if (maxOf(pa) <= minOf(pb) + 1e-6 || maxOf(pb) <= minOf(pa) + 1e-6) return false;
    }
  }
  return true;
}

/** The non-decreasing sequence nearest `values` (least squares; pool adjacent violators).
 * @param {Iterable<number>} values @returns {number[]} */
export function isotonic(values) {
  const sums = [];
  const counts = [];
  for (const v of values) {
    sums.push(v);
    counts.push(1);
    while (
      sums.length > 1 &&
      sums[sums.length - 2] / counts[counts.length - 2] > sums[sums.length - 1] / counts[counts.length - 1]
    ) {
      const s = sums.pop();
      const c = counts.pop();
      sums[sums.length - 1] += s;
      counts[counts.length - 1] += c;
    }
  }
  const out = [];
  sums.forEach((s, k) => {
    const mean = s / counts[k];
    for (let j = 0; j < counts[k]; j += 1) out.push(mean);
  });
  return out;
}

/** numpy's clip of one value: min(max(x, lo), hi), a NaN staying NaN. */
function clip(x, lo, hi) {
  if (Number.isNaN(x)) return x;
  const v = x > lo ? x : lo;
  if (Number.isNaN(v)) return v;
  return v < hi ? v : hi;
}

/** Angles as near `thetas` (sorted) as possible, at least `step` apart, in [lo, hi].
 * @param {ArrayLike<number>} thetas @param {number} step @param {number} lo @param {number} hi
 * @returns {number[]} */
export function spread(thetas, step, lo, hi) {
  const n = thetas.length;
  if (n === 0) return Array.from(thetas);
  const offsets = Array.from({ length: n }, (_, i) => i * step);
  const top = hi - (n - 1) * step;
  const fitted = isotonic(Array.from(thetas, (t, i) => t - offsets[i]));
  return fitted.map((f, i) => clip(f, lo, top) + offsets[i]);
}

/** The turn (degrees clockwise) of a radial text at polar angle `phi` (never upside down). */
export function labelAngle(phi) {
  const p = pyMod(phi, 360.0);
  return p <= 180.0 ? p - 90.0 : p - 270.0;
}

/** The turn of a text written along the circle at `theta`, upright on the bottom half. */
export function nameAngle(theta) {
  const t = pyMod(theta, 360.0);
  return t <= 90.0 || t >= 270.0 ? t : t - 180.0;
}

function names(sectors, cls, radius, centre) {
  const size = cls.nameSize;
  const h = lineHeight(size) + LABEL_PAD;
  const placed = [];
  for (const sector of sectors) {
    const w = textWidth(sector.name, size, true);
    const middle = (sector.start + sector.end) / 2;
    let box = null;
    let corners = null;
    let fits = false;
    for (let line = 0; line < MAX_NAME_LINES; line += 1) {
      const r = radius * cls.sector[1] + NAME_GAP + h / 2 + line * (h + 1);
      const a = radians(middle);
      box = new Placed(
        sector.name,
        [centre + r * Math.sin(a), centre - r * Math.cos(a)],
        nameAngle(middle),
        w,
        h,
        size,
        true,
      );
      corners = box.corners();
      if (placed.every((p) => !overlap(corners, p.corners()))) {
        fits = true;
        break;
      }
    }
    if (!fits) return null;
    const inside = ([x, y]) =>
      EDGE <= x && x <= cls.circle - EDGE && EDGE <= y && y <= cls.circle - EDGE;
    if (corners.some((c) => !inside(c))) return null;
    placed.push(box);
  }
  return placed;
}

function fitNames(sectors, cls) {
  const centre = cls.circle / 2;
  const h = lineHeight(cls.nameSize) + LABEL_PAD;
  let radius = (centre - EDGE - NAME_GAP - h) / cls.sector[1];
  while (radius > 20) {
    const placed = names(sectors, cls, radius, centre);
    if (placed !== null) return [radius, placed];
    radius *= 0.97;
  }
  throw new Error("the cell-type names do not fit the picture at any circle size");
}

/** Python's order of the priority tuples (not highlighted, -strength, theta): the first pair
 * of elements that are not equal decides, by `<` (an unordered pair, NaN, decides nothing). */
function byPriority(candidates) {
  return (i, j) => {
    const a = candidates[i];
    const b = candidates[j];
    const ha = !a.highlighted;
    const hb = !b.highlighted;
    if (ha !== hb) return ha < hb ? -1 : 1;
    const c = compareFloats(-a.strength, -b.strength);
    if (c !== null) return c;
    return compareFloats(a.theta, b.theta) ?? 0;
  };
}

/** -1, 1, or 0 for an unordered pair; null when the two are equal (the next element decides). */
function compareFloats(a, b) {
  if (a === b) return null;
  if (a < b) return -1;
  if (b < a) return 1;
  return 0;
}

/** Which candidates get a label and their angles, and the candidates left out (Python's
 * `_plan`): each sector keeps what its own arc holds, highest priority first; the room left
 * goes to the crowded sectors' next labels; the kept ones are spread over the whole circle. */
export function plan(candidates, sectors, step, eligible) {
  const gap = sectors.length > 1 ? SECTOR_GAP : 0.0;
  const lo = step / 2;
  const hi = 360.0 - step / 2;
  const capacity = hi < lo ? 0 : Math.floor((hi - lo) / step + 1e-9) + 1;
  const bySector = new Map();
  for (const i of eligible) {
    const s = candidates[i].sector;
    if (!bySector.has(s)) bySector.set(s, []);
    bySector.get(s).push(i);
  }
  const priority = byPriority(candidates);
  let kept = [];
  const waiting = [];
  for (const s of [...bySector.keys()].sort((a, b) => a - b)) {
    const members = bySector.get(s);
    const sector = sectors.at(s);
    const room = Math.floor((sector.end - sector.start + gap) / step + 1e-9);
    const order = [...members].sort(priority);
    kept.push(...pySlice(order, 0, room));
    waiting.push(...pySlice(order, room, undefined));
  }
  waiting.sort(priority);
  kept.push(...pySlice(waiting, 0, Math.max(0, capacity - kept.length)));
  if (kept.length > capacity) kept = pySlice([...kept].sort(priority), 0, capacity);
  kept.sort((i, j) => compareFloats(candidates[i].theta, candidates[j].theta) ?? 0);
  const keptSet = new Set(kept);
  const leftOut = [];
  for (let i = 0; i < candidates.length; i += 1) if (!keptSet.has(i)) leftOut.push(i);
  const thetas = kept.map((i) => candidates[i].theta);
  return [kept, spread(thetas, step, lo, hi), leftOut];
}

/** Python's seq[start:stop] (negative bounds count from the end). */
function pySlice(seq, start, stop) {
  return seq.slice(start, stop);
}

/** Place the sector names and the gene labels for width class `cls`.
 * @param {SectorLike[]} sectors @param {Candidate[]} candidates @param {WidthClass} cls
 * @returns {CircosLayout} */
export function layoutCircos(sectors, candidates, cls) {
  const [radius, placedNames] = fitNames(sectors, cls);
  const centre = [cls.circle / 2, cls.circle / 2];
  const start = cls.text * radius;
  const band = (cls.bandEnd - cls.text) * radius;
  // a name too long for the band even at the smallest font is left out (searched genes never)
  const eligible = [];
  candidates.forEach((c, i) => {
    if (c.highlighted || textWidth(c.text, cls.minLabelSize, c.bold) <= band) eligible.push(i);
  });
  let chosen = [[], [], candidates.map((_, i) => i)];
  let size = cls.labelSizes.at(-1);
  for (size of cls.labelSizes) {
    const h = lineHeight(size) + LABEL_PAD;
    const step = degrees(2 * Math.asin(pyMin(1.0, h / (2 * start))));
    chosen = plan(candidates, sectors, step, eligible);
    if (!chosen[2].length) break;
  }
  const [kept, angles] = chosen;
  const labels = kept.map((i, k) => {
    const phi = angles[k];
    const c = candidates[i];
    let own = size;
    let w = textWidth(c.text, own, c.bold);
    if (w > band) {
      // a long name gets a smaller font (and so a lower box), never cut
      own = (size * band) / w;
      w = textWidth(c.text, own, c.bold);
    }
    const r = start + w / 2;
    const a = radians(phi);
    const placed = new Placed(
      c.text,
      [centre[0] + r * Math.sin(a), centre[1] - r * Math.cos(a)],
      labelAngle(phi),
      w,
      lineHeight(own) + LABEL_PAD,
      own,
      c.bold,
    );
    return new GeneLabel(placed, i, c.theta, phi);
  });
  return new CircosLayout(cls, centre, radius, labels, chosen[2], placedNames, size);
}
