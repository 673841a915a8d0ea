// Port of ctsite/figures/geometry.py: Circos sector/slot angles, chord curves, timeline/column
// layouts. Angles are degrees clockwise from the top (Plotly polar with direction="clockwise",
// rotation=90). Same names in camelCase, same results; an (n, points) numpy array is a list of
// n Float64Array rows.

import { mapArray } from "./arrays.js";
import { pyMax, pyMin, pyMod } from "./py.js";

export const SECTOR_GAP = 2.0; // degrees between two sectors
// degrees: an arc is drawn as straight pieces no longer than this (at most 0.05 px off the true
// arc at the figures' sizes)
export const ARC_STEP = 2.0;

const DEG_TO_RAD = Math.PI / 180.0;
const RAD_TO_DEG = 180.0 / Math.PI;

/** math.radians / np.radians. */
export function radians(deg) {
  return deg * DEG_TO_RAD;
}

/** math.degrees / np.degrees. */
export function degrees(rad) {
  return rad * RAD_TO_DEG;
}

export class Sector {
  constructor(name, start, end, count) {
    this.name = name;
    this.start = start; // degrees
    this.end = end;
    this.count = count;
    Object.freeze(this);
  }

  get middle() {
    return (this.start + this.end) / 2;
  }

  /** Angular width of one target slot. */
  get slot() {
    return this.count ? (this.end - this.start) / this.count : 0.0;
  }

  /** Centre angle of the index-th target of this sector. */
  angle(index) {
    return this.start + (index + 0.5) * this.slot;
  }
}

/** Lay out sectors around the circle, in order, each sized by its number of targets.
 * @param {Array<[string, number]>} counts @param {number} [gap] @returns {Sector[]} */
export function sectors(counts, gap = SECTOR_GAP) {
  const kept = counts.filter(([, n]) => n > 0);
  const total = kept.reduce((s, [, n]) => s + n, 0);
  if (total === 0) return [];
  const many = kept.length > 1;
  const gaps = many ? gap * kept.length : 0.0;
  const usable = 360.0 - gaps;
  const out = [];
  let start = many ? gap / 2 : 0.0;
  for (const [name, n] of kept) {
    const span = (usable * n) / total;
    out.push(new Sector(name, start, start + span, n));
    start += span + (many ? gap : 0.0);
  }
  return out;
}

export function toXy(r, thetaDeg) {
  const t = radians(thetaDeg);
  return [r * Math.sin(t), r * Math.cos(t)];
}

/** Polar (r, theta) of x/y values (numbers, or equal-shaped lists of rows). */
export function toPolar(x, y) {
  if (typeof x === "number") {
    return [Math.hypot(x, y), pyMod(degrees(Math.atan2(x, y)), 360.0)];
  }
  const r = [];
  const theta = [];
  for (let i = 0; i < x.length; i += 1) {
    const [ri, ti] = toPolar(x[i], y[i]);
    r.push(ri);
    theta.push(ti);
  }
  return [r, theta];
}

/** numpy's linspace(start, stop, num). */
export function linspace(start, stop, num) {
  const out = new Float64Array(Math.max(0, num));
  const div = num - 1;
  const delta = stop - start;
  for (let i = 0; i < num; i += 1) {
    if (div > 0) {
      const step = delta / div;
      out[i] = (step === 0 ? (i / div) * delta : i * step) + start;
    } else {
      out[i] = i * delta + start;
    }
  }
  if (num > 1) out[num - 1] = stop;
  return out;
}

/** A quadratic Bézier from (radius, thetaFrom) to (radius, thetaTo) bent towards the centre:
 * polar [r, theta] Float64Arrays. `pull` is the control point's distance from the centre as a
 * fraction of radius, along the bisector (0 = through the centre). */
export function chordCurve(thetaFrom, thetaTo, radius, points = 16, pull = 0.15) {
  const [x0, y0] = toXy(radius, thetaFrom);
  const [x2, y2] = toXy(radius, thetaTo);
  const mx = (x0 + x2) / 2;
  const my = (y0 + y2) / 2;
  const norm = pyHypot(mx, my);
  let cx = 0.0;
  let cy = 0.0;
  if (norm > 1e-9) {
    cx = (mx / norm) * radius * pull;
    cy = (my / norm) * radius * pull;
  }
  const t = linspace(0.0, 1.0, points);
  const r = new Float64Array(points);
  const theta = new Float64Array(points);
  for (let j = 0; j < points; j += 1) {
    const u = 1 - t[j];
    const a = u * u;
    const b = 2 * u * t[j];
    const c = t[j] * t[j];
    const x = a * x0 + b * cx + c * x2;
    const y = a * y0 + b * cy + c * y2;
    [r[j], theta[j]] = toPolar(x, y);
  }
  return [r, theta];
}

/** The quadratic Béziers of `chordCurves`: [x0, y0, cx, cy, x2, y2] (Float64Arrays), the two
 * ends and the control point in the polar plane (x = r·sin θ, y = r·cos θ).
 * @param {ArrayLike<number>} thetaFrom @param {ArrayLike<number>} thetaTo @param {number} radius
 * @param {number} [pull] @returns {Float64Array[]} */
export function chordBeziers(thetaFrom, thetaTo, radius, pull = 0.15) {
  const n = thetaFrom.length;
  if (thetaTo.length !== n) throw new Error("chordBeziers: shapes differ");
  const out = Array.from({ length: 6 }, () => new Float64Array(n));
  const [X0, Y0, CX, CY, X2, Y2] = out;
  for (let i = 0; i < n; i += 1) {
    const a0 = radians(thetaFrom[i]);
    const a2 = radians(thetaTo[i]);
    const x0 = radius * Math.sin(a0);
    const y0 = radius * Math.cos(a0);
    const x2 = radius * Math.sin(a2);
    const y2 = radius * Math.cos(a2);
    const mx = (x0 + x2) / 2;
    const my = (y0 + y2) / 2;
    const norm = Math.hypot(mx, my);
    const safe = norm > 1e-9 ? norm : 1.0;
    X0[i] = x0;
    Y0[i] = y0;
    CX[i] = norm > 1e-9 ? (mx / safe) * radius * pull : 0.0;
    CY[i] = norm > 1e-9 ? (my / safe) * radius * pull : 0.0;
    X2[i] = x2;
    Y2[i] = y2;
  }
  return out;
}

/** `chordCurve` for many chords at once: [r, theta], each n rows of `points` values.
 * @param {ArrayLike<number>} thetaFrom @param {ArrayLike<number>} thetaTo @param {number} radius
 * @param {number} [points] @param {number} [pull] @returns {[Float64Array[], Float64Array[]]} */
export function chordCurves(thetaFrom, thetaTo, radius, points = 9, pull = 0.15) {
  const n = thetaFrom.length;
  if (thetaTo.length !== n) throw new Error("chordCurves: shapes differ");
  const [X0, Y0, CX, CY, X2, Y2] = chordBeziers(thetaFrom, thetaTo, radius, pull);
  const t = linspace(0.0, 1.0, points);
  const rs = [];
  const thetas = [];
  for (let i = 0; i < n; i += 1) {
    const r = new Float64Array(points);
    const theta = new Float64Array(points);
    for (let j = 0; j < points; j += 1) {
      const u = 1 - t[j];
      const a = u * u;
      const b = 2 * u * t[j];
      const c = t[j] * t[j];
      const x = a * X0[i] + b * CX[i] + c * X2[i];
      const y = a * Y0[i] + b * CY[i] + c * Y2[i];
      r[j] = Math.hypot(x, y);
      theta[j] = pyMod(degrees(Math.atan2(x, y)), 360.0);
    }
    rs.push(r);
    thetas.push(theta);
  }
  return [rs, thetas];
}

/** Sample `at` of `chordCurves`' `points` samples of each chord, alone: [r, theta] (Float64Arrays;
 * the same arithmetic, so the same values as that column of `chordCurves`). */
export function chordPoints(thetaFrom, thetaTo, radius, points, at, pull = 0.15) {
  const n = thetaFrom.length;
  const [X0, Y0, CX, CY, X2, Y2] = chordBeziers(thetaFrom, thetaTo, radius, pull);
  const tj = linspace(0.0, 1.0, points)[at];
  const u = 1 - tj;
  const a = u * u;
  const b = 2 * u * tj;
  const c = tj * tj;
  const r = new Float64Array(n);
  const theta = new Float64Array(n);
  for (let i = 0; i < n; i += 1) {
    const x = a * X0[i] + b * CX[i] + c * X2[i];
    const y = a * Y0[i] + b * CY[i] + c * Y2[i];
    r[i] = Math.hypot(x, y);
    theta[i] = pyMod(degrees(Math.atan2(x, y)), 360.0);
  }
  return [r, theta];
}

/** How many straight pieces draw each arc [start, end] (degrees): the fewest no longer than
 * ARC_STEP, at least one. @param {ArrayLike<number>} starts @param {ArrayLike<number>} ends
 * @returns {number[]} */
export function arcPieces(starts, ends) {
  return mapArray(starts, (s, i) => Math.max(1, Math.ceil((ends[i] - s) / ARC_STEP)));
}

/** The angles of arcs cut into `pieces`, arc after arc: start + (end − start)·k / n for
 * k = 0..n. @returns {Float64Array} */
export function arcPoints(starts, ends, pieces) {
  let total = 0;
  for (const n of pieces) total += n + 1;
  const out = new Float64Array(total);
  let at = 0;
  for (let i = 0; i < pieces.length; i += 1) {
    const s = starts[i];
    const span = ends[i] - s;
    const n = pieces[i];
    for (let k = 0; k <= n; k += 1) out[at++] = s + (span * k) / n;
  }
  return out;
}

/** Bars on a circle (each from angle start to end, radius base up to its top; in angle order,
 * not overlapping) as ONE closed polygon without gaps: [r, theta] (Float64Arrays). Forward
 * along each block of touching bars (up at its start, along every top, down at its end, on to
 * the next block), back along every block's base in reverse (retracing the pieces between
 * blocks, which so enclose nothing). */
export function skyline(base, starts, ends, tops) {
  const n = starts.length;
  if (n === 0) return [new Float64Array(0), new Float64Array(0)];
  const first = mapArray(starts, (s, i) => i === 0 || Math.abs(s - ends[i - 1]) > 1e-6);
  const last = first.slice(1).concat([true]);
  const pieces = arcPieces(starts, ends);
  const r = [];
  const theta = [];
  for (let i = 0; i < n; i += 1) {
    if (first[i]) {
      r.push(base);
      theta.push(starts[i]);
    }
    const s = starts[i];
    const span = ends[i] - s;
    for (let k = 0; k <= pieces[i]; k += 1) {
      r.push(tops[i]);
      theta.push(s + (span * k) / pieces[i]);
    }
    if (last[i]) {
      r.push(base);
      theta.push(ends[i]);
    }
  }
  const blockStart = [];
  const blockEnd = [];
  for (let i = 0; i < n; i += 1) {
    if (first[i]) blockStart.push(starts[i]);
    if (last[i]) blockEnd.push(ends[i]);
  }
  blockStart.reverse();
  blockEnd.reverse();
  const back = arcPoints(blockEnd, blockStart, arcPieces(blockStart, blockEnd));
  for (let k = 1; k < back.length; k += 1) {
    r.push(base);
    theta.push(back[k]);
  }
  return [Float64Array.from(r), Float64Array.from(theta)];
}

/** Python's math.hypot of two values (the same value as Math.hypot to within an ulp). */
function pyHypot(x, y) {
  return Math.hypot(x, y);
}

/** Centre angle and angular width of every target slot, sector after sector.
 * @param {Array<{start: number, end: number, count: number}>} layout
 * @returns {[Float64Array, Float64Array]} */
export function slotAngles(layout) {
  const total = layout.reduce((s, sector) => s + sector.count, 0);
  const thetas = new Float64Array(total);
  const widths = new Float64Array(total);
  let k = 0;
  for (const s of layout) {
    const slot = s.count ? (s.end - s.start) / s.count : 0.0;
    for (let i = 0; i < s.count; i += 1) {
      thetas[k] = s.start + (i + 0.5) * slot;
      widths[k] = slot;
      k += 1;
    }
  }
  return [thetas, widths];
}

/** Where to put a label at this angle so that it reads outwards from the circle. */
export function textPosition(thetaDeg) {
  const t = pyMod(thetaDeg, 360.0);
  if (t < 20 || t > 340) return "top center";
  if (t > 160 && t < 200) return "bottom center";
  return t < 180 ? "middle right" : "middle left";
}

/** y positions of the items of each column, top to bottom, each column centred on 0. */
export function columnPositions(counts, spacing = 1.0) {
  return counts.map((n) => {
    const top = ((n - 1) * spacing) / 2;
    return Array.from({ length: Math.max(0, n) }, (_, i) => top - i * spacing);
  });
}

/** Pull a segment's ends inwards by `start` and `end` (data units) so arrows meet node edges. */
export function shorten(x0, y0, x1, y1, start, end) {
  const dx = x1 - x0;
  const dy = y1 - y0;
  const length = pyHypot(dx, dy);
  if (length <= start + end || length === 0) return [x0, y0, x1, y1];
  const ux = dx / length;
  const uy = dy / length;
  return [x0 + ux * start, y0 + uy * start, x1 - ux * end, y1 - uy * end];
}

/** Map value from [lo, hi] to [outLo, outHi] (clipped; a flat range gives the middle). */
export function scale(value, lo, hi, outLo, outHi) {
  if (!Number.isFinite(value)) return outLo;
  if (hi <= lo) return (outLo + outHi) / 2;
  const f = pyMin(1.0, pyMax(0.0, (value - lo) / (hi - lo)));
  return outLo + f * (outHi - outLo);
}
