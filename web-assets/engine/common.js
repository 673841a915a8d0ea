// Port of ctsite/figures/common.py: small helpers shared by the figure builders (JSON-safe
// numbers, hover text, empty figures). Same names in camelCase, same results (see py.js for
// the Python number and text rules they keep).

import { mapArray } from "./arrays.js";
import {
  formatE,
  formatG,
  htmlEscape,
  npRound,
  npRound32,
  pyFloat,
  pyRound,
  pyStr,
  pyTruthy,
} from "./py.js";

export const EMPTY_MESSAGE = "No interactions — try loosening the filters";
// An interaction row's two ends and its counts: the first columns of every figure's CSV table
export const PAIR_COLUMNS = [
  "ligand",
  "cell_type_ligand",
  "receptor",
  "cell_type_receptor",
  "numSigI1",
  "numDEG",
];
export const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif";

/** A JSON-safe rounded float (null for NaN/null/inf).
 * @param {number | bigint | boolean | string | null | undefined} value @param {number} [digits]
 * @returns {number | null} */
export function num(value, digits = 4) {
  if (value === null || value === undefined) return null;
  const v = pyFloat(value);
  if (!Number.isFinite(v)) return null;
  return pyRound(v, digits);
}

/** Expression fractions as compared by the filters: rounded to 6 decimals (numpy's np.round).
 * A Float32Array is rounded in float32, as numpy rounds a float32 array; the Python figures
 * convert their columns to float64 first (`.to_numpy(float)`), so a port passes
 * `Float64Array.from(column)` where the Python code does that.
 * @param {number | number[] | Float32Array | Float64Array} values */
export function fraction(values) {
  if (values instanceof Float32Array) return values.map((v) => npRound32(v, 6));
  if (values instanceof Float64Array) return values.map((v) => npRound(v, 6));
  if (Array.isArray(values)) return values.map((v) => npRound(asFloat(v), 6));
  return npRound(asFloat(values), 6);
}

/** numpy's float conversion of one element (None → NaN). */
function asFloat(value) {
  return value === null || value === undefined ? NaN : pyFloat(value);
}

/** JSON-safe rounded floats (NaN/inf → null), vectorized.
 * @param {Iterable<number | null>} values @param {number} [digits] @returns {Array<number | null>} */
export function nums(values, digits = 4) {
  let finite = true;
  const out = mapArray(values, (value) => {
    const v = asFloat(value);
    if (!Number.isFinite(v)) finite = false;
    return npRound(v, digits);
  });
  // (a value that was not finite: every non-finite result becomes null)
  if (!finite) for (let i = 0; i < out.length; i += 1) if (!Number.isFinite(out[i])) out[i] = null;
  return out;
}

/** A value for hover text: numbers compactly, NaN as 'n/a' (a bigint is a Python int).
 * @param {unknown} value @param {number} [digits] @returns {string} */
export function fmt(value, digits = 3) {
  if (value === null || value === undefined) return "n/a";
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "bigint") return value.toString();
  let v;
  try {
    v = pyFloat(value);
  } catch {
    return esc(value);
  }
  if (!Number.isFinite(v)) return "n/a";
  if (v !== 0 && Math.abs(v) < Number(`1e${-digits}`)) return formatE(v, 2);
  return Math.abs(v) >= 1000 ? formatG(v, digits) : formatG(pyRound(v, digits), 6);
}

/** HTML-escape a name for Plotly hover/label text (gene and cell-type names are data). A number
 * is printed as Python prints a float (3.0 → "3.0"); pass a bigint for a Python int.
 * @param {unknown} value @returns {string} */
export function esc(value) {
  return htmlEscape(pyStr(value), false);
}

/** `fmt` for a whole float array at once (3 significant digits, NaN → 'n/a').
 * @param {Iterable<number | null>} values @returns {string[]} */
export function fmtMany(values) {
  return mapArray(values, (value) => {
    const v = asFloat(value);
    return Number.isFinite(v) ? formatG(v, 3) : "n/a";
  });
}

/** 'ligand' | 'receptor' | 'both' | 'gene'. */
export function role(isLigand, isReceptor) {
  if (pyTruthy(isLigand) && pyTruthy(isReceptor)) return "both";
  if (pyTruthy(isLigand)) return "ligand";
  if (pyTruthy(isReceptor)) return "receptor";
  return "gene";
}

export const ROLE_LABEL = {
  ligand: "Ligand",
  receptor: "Receptor",
  both: "Ligand & receptor",
  gene: "Other gene",
};

/** The first `limit` partners, and how many more there are. */
export function partnersText(partners, limit = 8) {
  if (!partners.length) return "none shown";
  const shown = partners.slice(0, limit).join(", ");
  const rest = partners.length - limit;
  return shown + (partners.length > limit ? ` … (+${rest})` : "");
}

/** Layout settings common to all figures (white, no grid, hover closest). */
export function baseLayout(height = 760) {
  return {
    height,
    autosize: true,
    hovermode: "closest",
    paper_bgcolor: "#ffffff",
    plot_bgcolor: "#ffffff",
    font: { family: FONT, size: 12, color: "#222222" },
    margin: { l: 20, r: 20, t: 30, b: 20 },
    hoverlabel: { font: { family: FONT, size: 12 } },
  };
}

export function hiddenAxis() {
  return { visible: false, showgrid: false, zeroline: false, showticklabels: false };
}

/** A figure with no data that shows `message` in its middle. */
export function emptyFigure(message) {
  const layout = baseLayout(420);
  Object.assign(layout, {
    xaxis: { ...hiddenAxis(), range: [-1, 1] },
    yaxis: { ...hiddenAxis(), range: [-1, 1] },
    annotations: [
      {
        x: 0,
        y: 0,
        xref: "x",
        yref: "y",
        text: esc(message),
        showarrow: false,
        font: { size: 18, color: "#8a1c1c" },
      },
    ],
  });
  return { data: [], layout };
}

/** A legend-only scatter entry (no points) explaining a marker symbol or colour. */
export function legendMarker(name, symbol, color, group, title) {
  return {
    type: "scatter",
    x: [null],
    y: [null],
    mode: "markers",
    name,
    legendgroup: group,
    legendgrouptitle: { text: title },
    showlegend: true,
    hoverinfo: "skip",
    marker: { symbol, color, size: 12, line: { width: 1, color: "#333" } },
  };
}

/** A legend-only line entry explaining an edge/chord width. */
export function legendLine(name, width, group, title) {
  return {
    type: "scatter",
    x: [null],
    y: [null],
    mode: "lines",
    name,
    legendgroup: group,
    legendgrouptitle: { text: title },
    showlegend: true,
    hoverinfo: "skip",
    line: { width, color: "#777777" },
  };
}

/** One directed edge: a line with an arrowhead at its end (hover is on the midpoint trace). */
export function arrowTrace(
  x0, y0, x1, y1, color, width, head, meta,
  { dash = null, opacity = null, markerLine = null } = {},
) { // prettier-ignore
  const line = { color, width: num(width, 2) };
  if (pyTruthy(dash)) line.dash = dash;
  const marker = { symbol: "arrow", angleref: "previous", size: [0, num(head, 1)], color };
  if (pyTruthy(markerLine)) marker.line = markerLine;
  const trace = {
    type: "scatter",
    mode: "lines+markers",
    x: [num(x0), num(x1)],
    y: [num(y0), num(y1)],
    line,
    marker,
    hoverinfo: "skip",
    showlegend: false,
    meta,
  };
  if (opacity !== null && opacity !== undefined) trace.opacity = opacity;
  return trace;
}

/** Hoverable markers at the edges' midpoints, coloured by value, with the colour bar. */
export function edgeMidpointsTrace(
  xs, ys, values, hover,
  { colorscale, cmin, cmax, title, size, length, lineColor, opacity = null },
) { // prettier-ignore
  const marker = { size };
  if (opacity !== null && opacity !== undefined) marker.opacity = opacity;
  Object.assign(marker, {
    color: values,
    colorscale,
    cmin,
    cmax,
    line: { width: 0.5, color: lineColor },
    showscale: true,
    colorbar: {
      title: { text: title, side: "right" },
      thickness: 12,
      len: length,
      y: 1.0,
      yanchor: "top",
      outlinewidth: 0,
    },
  });
  return {
    type: "scatter",
    mode: "markers",
    name: "edges",
    x: xs,
    y: ys,
    marker,
    hovertext: hover,
    hoverinfo: "text",
    showlegend: false,
  };
}
