// Port of ctsite/figures/circos_shapes.py: the Circos figure's drawn geometry as Plotly layout
// shapes — SVG paths in paper coordinates, one <path> however many pieces it holds (Plotly makes
// an SVG element of every gap-separated piece of a trace, every bar and every marker).
//
// Numbers are written with 5 decimals from the integer rint(value · 10⁵), the same float
// operations in the same order as the numpy code, so the path texts are the Python's.

import { mapArray } from "./arrays.js";
import * as geometry from "./geometry.js";
import { rint } from "./py.js";

export const DIGITS = 5;
const SCALE = 10 ** DIGITS;

/** A paper coordinate as a path number: 5 decimals, always written out. (k / 10⁵ is the double
 * nearest to the decimal, so toFixed writes exactly its 5 decimals.) */
export function text(value) {
  return (rint(value * SCALE) / SCALE).toFixed(DIGITS);
}

/** Paper coordinates as path numbers (`text` of each). */
export function texts(values) {
  return mapArray(values, (v) => text(v));
}

/** One point in px (y down) → "x,y" in paper coordinates (y up). */
function paperPoint(cls, px, py) {
  return `${text(px / cls.width)},${text(1 - py / cls.height)}`;
}

/** One polar point, from its radius in px and its angle's sine and cosine. */
function polarPoint(layout, rho, sin, cos) {
  return paperPoint(layout.widthClass, layout.centre[0] + rho * sin, layout.centre[1] - rho * cos);
}

/** Polar points (r in sector-ring radii, theta in degrees clockwise from the top) as "x,y"
 * paper coordinates (`CircosLayout.point`). */
export function polarPoints(layout, r, theta) {
  return mapArray(theta, (t, i) => {
    const a = geometry.radians(t);
    return polarPoint(layout, r[i] * layout.radius, Math.sin(a), Math.cos(a));
  });
}

/** Points of the polar plane (x = r·sin θ, y = r·cos θ) as "x,y" paper coordinates. */
export function planePoints(layout, x, y) {
  const cls = layout.widthClass;
  const [cx, cy] = layout.centre;
  return mapArray(x, (v, i) =>
    paperPoint(cls, cx + layout.radius * v, cy - layout.radius * y[i]),
  );
}

/** Each chord's path: one quadratic Bézier (`geometry.chordBeziers`). */
export function chordPaths(layout, thetaFrom, thetaTo, radius) {
  const [x0, y0, cx, cy, x2, y2] = geometry.chordBeziers(thetaFrom, thetaTo, radius);
  const start = planePoints(layout, x0, y0);
  const control = planePoints(layout, cx, cy);
  const end = planePoints(layout, x2, y2);
  return start.map((a, i) => `M${a}Q${control[i]} ${end[i]}`);
}

/** Each ring cell's closed path: along the outer radius from its start to its end angle, back
 * along the inner one (arcs cut into pieces of at most `geometry.ARC_STEP`). Built point by
 * point, without the arrays of the Python (a study-scale ring has thousands of cells). */
export function cellPaths(layout, radii, starts, ends) {
  if (!starts.length) return [];
  const pieces = geometry.arcPieces(starts, ends);
  const angle = geometry.arcPoints(starts, ends, pieces);
  const outer = radii[1] * layout.radius;
  const inner = radii[0] * layout.radius;
  const out = new Array(pieces.length);
  const sin = [];
  const cos = [];
  let at = 0;
  for (let c = 0; c < pieces.length; c += 1) {
    const n = pieces[c];
    for (let k = 0; k <= n; k += 1) {
      const a = geometry.radians(angle[at + k]);
      sin[k] = Math.sin(a);
      cos[k] = Math.cos(a);
    }
    let path = `M${polarPoint(layout, outer, sin[0], cos[0])}`;
    for (let k = 1; k <= n; k += 1) path += `L${polarPoint(layout, outer, sin[k], cos[k])}`;
    for (let k = n; k >= 0; k -= 1) path += `L${polarPoint(layout, inner, sin[k], cos[k])}`;
    out[c] = `${path}Z`;
    at += n + 1;
  }
  return out;
}

/** Each gene label's leader: radially from just outside the dc1 ring to a knee, then to where
 * its text starts. */
export function leaderPaths(layout) {
  const cls = layout.widthClass;
  const [start, knee] = cls.leader;
  const end = cls.text - 2.0 / layout.radius;
  const r = [];
  const theta = [];
  for (const g of layout.labels) {
    r.push(start, knee, end);
    theta.push(g.theta, g.theta, g.phi);
  }
  const points = polarPoints(layout, r, theta);
  return layout.labels.map(
    (_, i) => `M${points[3 * i]}L${points[3 * i + 1]}L${points[3 * i + 2]}`,
  );
}

/** One layout shape drawing all `paths` (above the traces, in paper coordinates). */
export function pathShape(name, paths, { line, fillcolor = null, opacity = null }) {
  const shape = {
    type: "path",
    name,
    xref: "paper",
    yref: "paper",
    layer: "above",
    path: paths.join(""),
    line,
  };
  if (fillcolor !== null) shape.fillcolor = fillcolor;
  if (opacity !== null) shape.opacity = opacity;
  return shape;
}
