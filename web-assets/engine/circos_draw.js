// Port of ctsite/figures/circos_draw.py: drawing of the Circos figure — filtered nodes and
// chords → the Plotly figure dict, laid out in pixels for one width class. Same names in
// camelCase, same results (the conformance suite holds the two figures' JSON equal).
//
// `data` is `{nodes, chords}`, two column tables (frame.js) with the columns of the Python
// CircosData. A Float64Array/Float32Array column is a numpy float column; any other numeric
// column (a plain array of numbers, or of BigInts as Arrow reads int64) is an integer column,
// printed as Python prints an int.
//
// numpy's rounding is not Python's: `round()` of a numpy scalar (the chord widths, whose bin
// comes from a numpy group key) and `np.round` (`nums`) scale and round half-even
// (npRound); `round()` of a Python float is correctly rounded (pyRound).

import { mapArray, mapFloat64 } from "./arrays.js";
import { DESKTOP, candidate, layoutCircos } from "./circos_labels.js";
import * as shapesOf from "./circos_shapes.js";
import * as colors from "./colors.js";
import {
  ROLE_LABEL,
  baseLayout,
  esc,
  fmtMany,
  num,
  nums,
  partnersText,
  role,
} from "./common.js";
import * as fit from "./fit.js";
import { compareValues as compare, minMax } from "./frame.js";
import * as geometry from "./geometry.js";
import { npRound, pyFloatRepr, pyMod, pyRound, pyTruthy } from "./py.js";
import { FONT_STACK } from "./text_metrics.js";

export const CHORD_WIDTH = [0.6, 6.0];
export const RING_BINS = 32; // colour steps of a heatmap ring: neighbours in one step are one bar
export const COLOR_BINS = 11;
export const WIDTH_BINS = 4;
export const DIM_ALPHA = 0.12;
export const DIMMED = "#767676"; // gene labels while others are searched (4.5:1 on white)
export const CHORD_POINTS = 9; // Bézier samples per chord: its hover point is the third
export const PARTNERS_SHOWN = 5;
export const LEADER_COLOR = "#9a9a9a";
export const HISTOGRAM_COLOR = "#555555";

/** @typedef {import("./frame.js").Table} Table */
/** @typedef {{nodes: Table, chords: Table}} CircosData */
/** @typedef {import("./circos_labels.js").WidthClass} WidthClass */
/** @typedef {import("./circos_labels.js").CircosLayout} CircosLayout */
/** @typedef {Record<string, any>} Trace */

// ---- column helpers ---------------------------------------------------------------------

/** A column as float64 values (numpy's `to_numpy(dtype=float)`: None → NaN, ints exactly). */
function floats(values) {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i += 1) {
    const v = values[i];
    out[i] = v === null || v === undefined ? NaN : Number(v);
  }
  return out;
}

function isFloatColumn(values) {
  return values instanceof Float64Array || values instanceof Float32Array;
}

/** "float" or "int": a column's numpy kind — from a Frame's dtypes (frame.js, which widens
 * integers into a Float64Array), else from the column's array type. */
function kindOf(table, name) {
  const dtype = table.dtypes ? table.dtypes[name] : null;
  if (dtype) return dtype.startsWith("float") ? "float" : "int";
  return isFloatColumn(table.columns[name]) ? "float" : "int";
}

/** Python's str() of one element of a column (`tolist()`) of numpy `kind` ("float"/"int"):
 * a float as repr, an int as an int. */
function cellText(kind, v) {
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number" && kind !== "float" && Number.isInteger(v)) {
    // (a safe integer prints as its digits: no BigInt needed)
    return Number.isSafeInteger(v) ? String(v) : BigInt(v).toString();
  }
  if (typeof v === "number") return pyFloatRepr(v);
  if (typeof v === "boolean") return v ? "True" : "False";
  return v === null || v === undefined ? "None" : String(v);
}

/** numpy's truth of a cell (`flatnonzero`: NaN is true). */
function truthy(v) {
  return pyTruthy(v);
}

/** Python's `str(x)` of a value used as text (gene and cell-type names). */
function text(v) {
  return typeof v === "string" ? v : cellText("int", v);
}

/** Python's int(x) of a float, as text (exact for any size). */
function intText(v) {
  if (!Number.isFinite(v)) throw new Error("cannot convert float NaN or infinity to integer");
  const t = Math.trunc(v);
  return Number.isSafeInteger(t) ? String(t) : BigInt(t).toString();
}

function clip01(x) {
  // np.clip(x, 0, 1) (NaN stays NaN)
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

function asGeneSet(genes) {
  if (genes instanceof Set) return genes;
  return new Set(genes ?? []);
}

// ---- the Python module's functions --------------------------------------------------------

/** "cell type|gene". */
export function nodeKey(cellType, gene) {
  return `${text(cellType)}|${text(gene)}`;
}

/** Which chords have a searched gene at either end (booleans, one per chord).
 * @param {Table} chords @param {Iterable<string>} genes @returns {boolean[]} */
export function highlightedChords(chords, genes) {
  const wanted = asGeneSet(genes);
  const out = new Array(chords.length).fill(false);
  if (!wanted.size) return out;
  const { ligand, receptor } = chords.columns;
  for (let i = 0; i < chords.length; i += 1) {
    out[i] = wanted.has(ligand[i]) || wanted.has(receptor[i]);
  }
  return out;
}

function nodeKeys(cellTypes, genes) {
  if (cellTypes.length !== genes.length) throw new Error("nodeKeys: columns differ in length");
  return mapArray(cellTypes, (c, i) => nodeKey(c, genes[i]));
}

function partnersOf(chords) {
  const out = new Map();
  const c = chords.columns;
  const add = (key, text_) => {
    if (!out.has(key)) out.set(key, []);
    out.get(key).push(text_);
  };
  for (let i = 0; i < chords.length; i += 1) {
    const lig = c.ligand[i];
    const ctl = c.cell_type_ligand[i];
    const rec = c.receptor[i];
    const ctr = c.cell_type_receptor[i];
    add(nodeKey(ctl, lig), `→ ${esc(rec)} (${esc(ctr)})`);
    add(nodeKey(ctr, rec), `← ${esc(lig)} (${esc(ctl)})`);
  }
  return out;
}

/** Each chord end's strength: the summed numSigI1 of its chords (label priority). */
function strengths(chords) {
  const out = new Map();
  const c = chords.columns;
  for (let i = 0; i < chords.length; i += 1) {
    const value = Number(c.numSigI1[i]);
    for (const key of [
      nodeKey(c.cell_type_ligand[i], c.ligand[i]),
      nodeKey(c.cell_type_receptor[i], c.receptor[i]),
    ]) {
      out.set(key, (out.has(key) ? out.get(key) : 0.0) + value);
    }
  }
  return out;
}

/** The chord ends (node rows) that want a label, with their priorities: [rows, candidates].
 * @param {Table} nodes @param {Float64Array} thetas
 * @param {import("./geometry.js").Sector[]} layoutSectors @param {Table} chords
 * @param {Iterable<string>} genes @returns {[number[], object[]]} */
export function labelCandidates(nodes, thetas, layoutSectors, chords, genes) {
  const wanted = asGeneSet(genes);
  const strength = strengths(chords);
  const sectorOf = new Map(layoutSectors.map((s, i) => [s.name, i]));
  const { has_chord: hasChord, target, cell_type: cellType } = nodes.columns;
  const rows = [];
  for (let i = 0; i < nodes.length; i += 1) if (truthy(hasChord[i])) rows.push(i);
  const out = rows.map((i) => {
    if (!sectorOf.has(cellType[i])) throw new Error(`KeyError: ${cellType[i]}`);
    const key = nodeKey(cellType[i], target[i]);
    return candidate({
      text: text(target[i]),
      theta: thetas[i],
      sector: sectorOf.get(cellType[i]),
      highlighted: wanted.has(target[i]),
      strength: strength.has(key) ? strength.get(key) : 0.0,
      bold: wanted.size > 0 && wanted.has(target[i]),
    });
  });
  return [rows, out];
}

/** (cell type, n) in order of first appearance (`groupby("cell_type", sort=False).size()`). */
function sectorCounts(cellTypes) {
  const counts = new Map();
  for (const c of cellTypes) counts.set(c, (counts.get(c) ?? 0) + 1);
  return [...counts];
}

// What a figure takes from its nodes alone (sectors, slots, keys, hover texts without partners,
// the rings' cells) is kept per nodes table and width class, so that a change that keeps the
// nodes (a chord threshold, the searched genes: most changes of a view) reuses it. The nodes
// are known by their `row` column: circos_data.js keeps the nodes of a table and fdr_l, and every
// table derived from them shares the column. Nodes not seen before are computed afresh.
const FROM_NODES = new WeakMap(); // nodes' row column → width class → memo

function fromNodes(nodes, cls) {
  const key = nodes.columns.row;
  if (key === null || typeof key !== "object") return {};
  let byClass = FROM_NODES.get(key);
  if (!byClass) {
    byClass = new WeakMap();
    FROM_NODES.set(key, byClass);
  }
  let memo = byClass.get(cls);
  if (!memo) {
    memo = {};
    byClass.set(cls, memo);
  }
  return memo;
}

function sectorsOf(nodes) {
  const layoutSectors = geometry.sectors(sectorCounts(nodes.columns.cell_type));
  const [thetas, widths] = geometry.slotAngles(layoutSectors);
  return { layoutSectors, thetas, widths };
}

function baseHoverOf(nodes) {
  const n = nodes.columns;
  const roles = mapArray(n.is_ligand, (lig, i) => ROLE_LABEL[role(lig, n.is_receptor[i])]);
  return mapArray(
    n.target,
    (t, i) => `<b>${esc(t)}</b> (${roles[i]})<br>Cell type: ${esc(n.cell_type[i])}`,
  );
}

/** The Plotly figure dict for filtered Circos data (`{nodes, chords}`), drawn for
 * `widthClass` (circos_labels.js's WIDTH_CLASSES).
 * @param {CircosData} data
 * @param {Record<string, string> | Map<string, string>} palette  cell type → colour
 * @param {Iterable<string>} genes  the searched genes
 * @param {WidthClass} widthClass
 * @returns {{data: Trace[], layout: Record<string, any>}} */
export function circosFigure(data, palette, genes, widthClass = DESKTOP) {
  const { nodes, chords } = data;
  const wanted = asGeneSet(genes);
  const cls = widthClass;
  const memo = fromNodes(nodes, cls);
  memo.sectors ??= sectorsOf(nodes);
  const { layoutSectors, thetas, widths } = memo.sectors;
  const [rows, candidates] = labelCandidates(nodes, thetas, layoutSectors, chords, wanted);
  const placed = layoutCircos(layoutSectors, candidates, cls);
  const n = nodes.columns;
  memo.keys ??= nodeKeys(n.cell_type, n.target);
  const keys = memo.keys;
  const partners = partnersOf(chords);
  memo.baseHover ??= baseHoverOf(nodes);
  const baseHover = memo.baseHover;
  const partnerHover = keys.map((k) =>
    partners.has(k) ? `<br>Partners: ${partnersText(partners.get(k), PARTNERS_SHOWN)}` : "",
  );
  const bars = colorbarPlaces(cls);
  const traces = [];
  const shapes = [];
  traces.push(sectorTrace(layoutSectors, palette, chords, cls));
  memo.rings ??= new Map();
  for (const [name, radii, scale, valueRange, colorbar] of [
    ["cell_type_dc1", cls.dc1, colors.CIVIDIS, colors.DC1_RANGE, ["dc1", bars[0]]],
    ["DA_score", cls.da, colors.RED_BLUE, colors.DA_RANGE, ["DA score", bars[1]]],
  ]) {
    if (!memo.rings.has(name)) {
      const shown = fmtMany(floats(n[name]));
      memo.rings.set(name, { prefix: baseHover.map((h, i) => `${h}<br>${name}: ${shown[i]}`) });
    }
    const ringMemo = memo.rings.get(name);
    const [ringTraces, ringShapes] = ring(
      placed,
      name,
      radii,
      thetas,
      widths,
      floats(n[name]),
      scale,
      valueRange,
      ringMemo.prefix.map((h, i) => h + partnerHover[i]),
      keys,
      { title: { text: colorbar[0], side: "right" }, ...colorbar[1] },
      ringMemo,
    );
    traces.push(...ringTraces);
    shapes.push(...ringShapes);
  }
  memo.histogram ??= {};
  traces.push(
    ...histogram(nodes, thetas, widths, keys, baseHover, partnerHover, chords, cls, memo.histogram),
  );
  if (chords.length) {
    // (cell type → gene → node row: the MultiIndex look-up of the Python)
    const at = new Map();
    for (let i = 0; i < nodes.length; i += 1) {
      if (!at.has(n.cell_type[i])) at.set(n.cell_type[i], new Map());
      at.get(n.cell_type[i]).set(n.target[i], i);
    }
    // pandas' get_indexer gives −1 for a missing end: numpy then reads the last slot
    const lookup = (cts, genes_) =>
      mapFloat64(cts, (ct, i) => {
        const row = at.get(ct)?.get(genes_[i]);
        return row === undefined ? thetas.at(-1) : thetas[row];
      });
    const c = chords.columns;
    const atLigand = lookup(c.cell_type_ligand, c.ligand);
    const atReceptor = lookup(c.cell_type_receptor, c.receptor);
    const [chordTraces_, chordShapes] = chordParts(
      placed, chords, atLigand, atReceptor, wanted, cls.chord, bars[2],
    ); // prettier-ignore
    traces.push(...chordTraces_);
    shapes.push(...chordShapes);
  }
  const hover = rows.map((i) => `${baseHover[i]}${partnerHover[i]}`);
  shapes.push(...leaderShapes(placed));
  traces.push(labelHoverTrace(placed, rows, keys, hover));
  traces.push(...widthLegend(chords));
  const annotations = [
    ...nameAnnotations(placed, layoutSectors, palette),
    ...labelAnnotations(placed, wanted),
  ];

  const rMax = cls.sector[1] + 0.01;
  const [cx, cy] = placed.centre;
  const half = placed.radius * rMax;
  const layout = baseLayout(Math.trunc(cls.height));
  Object.assign(layout, {
    width: Math.trunc(cls.width),
    autosize: false,
    polar: {
      domain: {
        x: [pyRound((cx - half) / cls.width, 6), pyRound((cx + half) / cls.width, 6)],
        y: [pyRound(1 - (cy + half) / cls.height, 6), pyRound(1 - (cy - half) / cls.height, 6)],
      },
      bgcolor: "#ffffff",
      hole: 0,
      radialaxis: { visible: false, range: [0, rMax], showgrid: false },
      angularaxis: {
        visible: false,
        direction: "clockwise",
        rotation: 90,
        thetaunit: "degrees",
        showgrid: false,
      },
      barmode: "overlay",
    },
    annotations,
    shapes,
    showlegend: true,
    legend: legendPlace(cls),
    // the labels are placed in px of this exact frame: nothing may push the margins
    margin: { l: 0, r: 0, t: 0, b: 0, pad: 0, autoexpand: false },
    meta: {
      figure: "circos",
      highlight: [...wanted].sort(compare),
      size: cls.name,
      labelled: placed.labels.length,
      chord_ends: candidates.length,
    },
  });
  return { data: traces, layout };
}

/** Where the three colour bars go: a column right of the circle on a desktop, a row below it
 * on a phone (inside the picture: they never push its margins). */
export function colorbarPlaces(cls) {
  const common = { thickness: 12, lenmode: "pixels", outlinewidth: 0, xanchor: "left" };
  if (cls.width > cls.circle) {
    const x = (cls.circle + 6) / cls.width;
    const length = (cls.height - 200) / 3 - 16;
    return [0, 1, 2].map((k) => ({
      ...common,
      len: length,
      x,
      y: 1 - (8 + (length + 16) * (k + 0.5)) / cls.height,
    }));
  }
  const band = cls.height - cls.circle;
  const y = (band - 8) / 2 / cls.height;
  return [0, 1, 2].map((k) => ({ ...common, len: band - 24, x: (2 + 60 * k) / cls.width, y }));
}

export function legendPlace(cls) {
  const x = cls.width > cls.circle ? (cls.circle + 4) / cls.width : 202 / cls.width;
  return {
    orientation: "v",
    x: pyRound(x, 4),
    xanchor: "left",
    y: 0.0,
    yanchor: "bottom",
    font: { size: cls.width > cls.circle ? 11 : 10 },
    itemclick: "toggle",
    bgcolor: "rgba(255,255,255,0)",
  };
}

function paper(cls, point) {
  return [pyRound(point[0] / cls.width, 5), pyRound(1 - point[1] / cls.height, 5)];
}

function textAnnotation(cls, placed, text_, color) {
  const [x, y] = paper(cls, placed.centre);
  return {
    x,
    y,
    xref: "paper",
    yref: "paper",
    xanchor: "center",
    yanchor: "middle",
    text: text_,
    // in Plotly's own form of an angle (−180 to 180), so that go.Figure keeps it as it is
    textangle: pyMod(pyRound(placed.angle, 2) + 180, 360) - 180,
    showarrow: false,
    borderpad: 0,
    font: { family: FONT_STACK, size: placed.size, color },
  };
}

function paletteColor(palette, name) {
  if (palette instanceof Map) return palette.has(name) ? palette.get(name) : "#888888";
  return palette && Object.hasOwn(palette, name) ? palette[name] : "#888888";
}

export function nameAnnotations(placed, layoutSectors, palette) {
  const cls = placed.widthClass;
  if (layoutSectors.length !== placed.names.length) throw new Error("sectors and names differ");
  return layoutSectors.map((sector, i) => {
    const ink = fit.inkOnWhite(paletteColor(palette, sector.name)); // (light colours darkened)
    const note = textAnnotation(cls, placed.names[i], `<b>${esc(sector.name)}</b>`, ink);
    note.name = "sector name";
    return note;
  });
}

/** The gene labels, radial (searched genes bold; when genes are searched the others grey). */
export function labelAnnotations(placed, genes) {
  const wanted = asGeneSet(genes);
  const cls = placed.widthClass;
  const dim = wanted.size > 0;
  return placed.labels.map((label) => {
    const t = label.placed.text;
    const lit = !dim || wanted.has(t);
    const shown = label.placed.bold ? `<b>${esc(t)}</b>` : esc(t);
    const note = textAnnotation(cls, label.placed, shown, lit ? "#000000" : DIMMED);
    note.name = "gene label";
    return note;
  });
}

/** A point on each gene label (drawn as nothing), carrying its node's key and hover
 * text (the labels are annotations, which Plotly does not hover like points). */
export function labelHoverTrace(placed, rows, keys, hover) {
  const [cx, cy] = placed.centre;
  const r = [];
  const theta = [];
  for (const label of placed.labels) {
    const [x, y] = label.placed.centre;
    r.push(pyRound(Math.hypot(x - cx, y - cy) / placed.radius, 4));
    theta.push(pyRound(label.phi, 3));
  }
  return {
    type: "scatterpolar",
    mode: "none",
    name: "labels",
    r,
    theta,
    hovertext: placed.labels.map((label) => hover.at(label.index)),
    hoverinfo: "text",
    customdata: placed.labels.map((label) => keys.at(rows.at(label.index))),
    showlegend: false,
  };
}

/** The labels' leader lines, one shape (none without labels). */
export function leaderShapes(placed) {
  if (!placed.labels.length) return [];
  return [
    shapesOf.pathShape("leaders", shapesOf.leaderPaths(placed), {
      line: { width: 0.6, color: LEADER_COLOR },
    }),
  ];
}

function countBy(values) {
  const out = new Map();
  for (const v of values) out.set(v, (out.get(v) ?? 0) + 1);
  return out;
}

/** Every cell-type sector in one bar trace (their names are annotations). */
export function sectorTrace(layoutSectors, palette, chords, cls) {
  const sent = chords.length ? countBy(chords.columns.cell_type_ligand) : new Map();
  const received = chords.length ? countBy(chords.columns.cell_type_receptor) : new Map();
  return {
    type: "barpolar",
    name: "sectors",
    r: layoutSectors.map(() => pyRound(cls.sector[1] - cls.sector[0], 4)),
    base: cls.sector[0],
    theta: layoutSectors.map((s) => num(s.middle)),
    width: layoutSectors.map((s) => num(s.end - s.start)),
    marker: { color: layoutSectors.map((s) => paletteColor(palette, s.name)), line: { width: 0 } },
    hovertext: layoutSectors.map(
      (s) =>
        `<b>${esc(s.name)}</b><br>${s.count} targets<br>` +
        `chords sent: ${sent.get(s.name) ?? 0}, received: ${received.get(s.name) ?? 0}`,
    ),
    hoverinfo: "text",
    customdata: layoutSectors.map((s) => s.name),
    showlegend: false,
  };
}

/** Adjacent cells (touching in angle) of the same colour bin as one cell: [starts, ends, bins]
 * per run. Bin −1 (no value) cells are left out.
 * @param {Float64Array} thetas @param {Float64Array} widths @param {number[]} bins
 * @returns {[Float64Array, Float64Array, number[]]} */
export function mergeRuns(thetas, widths, bins) {
  const n = thetas.length;
  const starts = mapFloat64(thetas, (t, i) => t - widths[i] / 2);
  const ends = mapFloat64(thetas, (t, i) => t + widths[i] / 2);
  const first = [];
  for (let i = 0; i < n; i += 1) {
    if (i === 0 || bins[i] !== bins[i - 1] || Math.abs(starts[i] - ends[i - 1]) > 1e-6) {
      first.push(i);
    }
  }
  const last = first.slice(1).map((f) => f - 1);
  last.push(n - 1);
  if (n === 0) throw new Error("IndexError: index -1 is out of bounds for axis 0 with size 0");
  const los = [];
  const his = [];
  const runBins = [];
  first.forEach((f, k) => {
    if (bins[f] >= 0) {
      los.push(starts[f]);
      his.push(ends[last[k]]);
      runBins.push(bins[f]);
    }
  });
  return [Float64Array.from(los), Float64Array.from(his), runBins];
}

/** A trace with no points that shows a colour bar (the ring cells and chords it explains are
 * shapes). */
export function scaleTrace(name, scale, valueRange, colorbar) {
  const [lo, hi] = valueRange;
  return {
    type: "scatterpolar",
    mode: "markers",
    name,
    r: [null],
    theta: [null],
    marker: {
      color: [lo],
      colorscale: colors.colorscale(scale),
      cmin: lo,
      cmax: hi,
      showscale: true,
      colorbar,
    },
    hoverinfo: "skip",
    showlegend: false,
  };
}

/** One heatmap ring: [traces, shapes]. Runs of adjacent targets in the same colour step are one
 * cell (NaN → no colour), the cells of a colour step one shape; the ring's hover from one
 * undrawn trace through every cell, its colour bar on a trace with no points. */
export function ring(
  placed, name, radii, thetas, widths, values, scale, valueRange, hover, keys, colorbar, memo = {},
) { // prettier-ignore
  const [lo, hi] = valueRange;
  // (the cells' paths, kept in `memo` for this circle: the same nodes draw the same cells)
  const circle = `${placed.radius},${placed.centre[0]},${placed.centre[1]}`;
  if (!memo.cells || memo.cells.circle !== circle) {
    const bins = mapArray(values, (v) =>
      Number.isFinite(v)
        ? Math.trunc(Math.min(RING_BINS - 1, clip01((v - lo) / (hi - lo)) * RING_BINS))
        : -1,
    );
    const [starts, ends, runBins] = mergeRuns(thetas, widths, bins);
    const paths = shapesOf.cellPaths(placed, radii, starts, ends);
    const byBin = new Map();
    runBins.forEach((b, i) => {
      if (!byBin.has(b)) byBin.set(b, []);
      byBin.get(b).push(paths[i]);
    });
    const bins_ = [...byBin.keys()].sort((a, b) => a - b);
    memo.cells = { circle, byBin: bins_.map((b) => [b, byBin.get(b).join("")]) };
  }
  const palette = colors.binColors(scale, lo, hi, RING_BINS);
  const shapes = memo.cells.byBin.map(([b, path]) =>
    shapesOf.pathShape(`${name} ring`, [path], { line: { width: 0 }, fillcolor: palette.at(b) }),
  );
  memo.theta ??= nums(thetas, 3);
  const hoverLine = {
    type: "scatterpolar",
    mode: "none",
    name,
    r: new Array(thetas.length).fill(pyRound((radii[0] + radii[1]) / 2, 4)),
    theta: memo.theta.slice(),
    hovertext: hover,
    hoverinfo: "text",
    customdata: keys.slice(),
    showlegend: false,
  };
  return [[scaleTrace(`${name} scale`, scale, valueRange, colorbar), hoverLine], shapes];
}

/** numSigI1 bars of the receptors, heights relative to min/max over the chords shown: one
 * filled outline, its hover line and its legend entry. */
export function histogram(
  nodes, thetas, widths, keys, baseHover, partnerHover, chords, cls, memo = {},
) { // prettier-ignore
  const n = nodes.columns;
  if (!memo.idx) {
    const idx = [];
    for (let i = 0; i < nodes.length; i += 1) if (truthy(n.is_receptor[i])) idx.push(i);
    const all = floats(n.numSigI1);
    const values = idx.map((i) => all[i]);
    memo.idx = idx;
    memo.values = values;
    memo.prefix = idx.map((i, k) => `${baseHover[i]}<br>numSigI1: ${intText(values[k])}`);
    memo.starts = idx.map((i) => thetas[i] - widths[i] / 2);
    memo.ends = idx.map((i) => thetas[i] + widths[i] / 2);
    memo.theta = nums(
      idx.map((i) => thetas[i]),
      3,
    );
  }
  const { idx, values } = memo;
  let lo;
  let hi;
  if (chords.length) {
    [lo, hi] = minMax(chords.columns.numSigI1);
  } else {
    // np.min(values, initial=0) / np.max(values, initial=1): the initial value takes part
    lo = values.reduce((m, v) => (v < m || Number.isNaN(v) ? v : m), 0);
    hi = values.reduce((m, v) => (v > m || Number.isNaN(v) ? v : m), 1);
  }
  // (the outline, kept in `memo` for the last range of the chords' numSigI1)
  if (!memo.outline || !Object.is(memo.outline.lo, lo) || !Object.is(memo.outline.hi, hi)) {
    const full = cls.hist[1] - cls.hist[0];
    const span = hi > lo ? hi - lo : 1.0;
    const base = cls.hist[0];
    const tops = values.map(
      (v) => base + (v > 0 ? 0.08 * full + (full - 0.08 * full) * clip01((v - lo) / span) : 0.0),
    );
    const [r, theta] = geometry.skyline(base, memo.starts, memo.ends, tops);
    memo.outline = { lo, hi, r: nums(r), theta: nums(theta, 3) };
  }
  const encodings = () => ({ legendgroup: "encodings", legendgrouptitle: { text: "Encodings" } });
  const bars = {
    type: "scatterpolar",
    mode: "none",
    name: "numSigI1 bars",
    r: memo.outline.r.slice(),
    theta: memo.outline.theta.slice(),
    fill: "toself",
    fillcolor: HISTOGRAM_COLOR,
    line: { width: 0 },
    hoverinfo: "skip",
    showlegend: false,
    ...encodings(),
  };
  const hoverLine = {
    type: "scatterpolar",
    mode: "none",
    name: "numSigI1",
    r: new Array(idx.length).fill(pyRound((cls.hist[0] + cls.hist[1]) / 2, 4)),
    theta: memo.theta.slice(),
    hovertext: idx.map((i, k) => memo.prefix[k] + partnerHover[i]),
    hoverinfo: "text",
    customdata: idx.map((i) => keys[i]),
    showlegend: false,
    ...encodings(),
  };
  // the legend's entry (a bar, as the histogram looks; clicking it hides the group)
  const legend = {
    type: "barpolar",
    name: "numSigI1",
    r: [null],
    theta: [null],
    marker: { color: HISTOGRAM_COLOR, line: { width: 0 } },
    hoverinfo: "skip",
    showlegend: true,
    ...encodings(),
  };
  return [bars, hoverLine, legend];
}

/** Fewer chords are drawn more opaque; dense views stay readable. */
export function chordOpacity(n) {
  return n <= 100 ? 0.85 : n <= 400 ? 0.6 : 0.45;
}

/** numpy's `astype(int)` of a float (truncation; NaN and overflow give INT64_MIN on x86). */
function asInt(x) {
  if (!Number.isFinite(x) || Math.abs(x) >= 9223372036854775808) return -9223372036854775808;
  return Math.trunc(x);
}

/** The chords: [traces, shapes]. Their curves as shapes (dimmed first, highlighted on top), one
 * hover point per chord (drawn as nothing), the colour bar on a trace with no points. */
export function chordParts(placed, chords, atLigand, atReceptor, genes, radius, colorbar) {
  const wanted = asGeneSet(genes);
  const c = chords.columns;
  const n = chords.length;
  const nMax = minMax(c.numSigI1)[1];
  const highlighted = highlightedChords(chords, wanted);
  const ligKeys = nodeKeys(c.cell_type_ligand, c.ligand);
  const recKeys = nodeKeys(c.cell_type_receptor, c.receptor);
  const log2fc = floats(c.MAST_log2FC_ligand);
  const numsig = floats(c.numSigI1);
  // (each chord's hover point: the sample a quarter of the way, alone)
  const at = Math.max(1, Math.floor(CHORD_POINTS / 4));
  const [hoverR, hoverTheta] = geometry.chordPoints(atLigand, atReceptor, radius, CHORD_POINTS, at);
  const [loC, hiC] = colors.LIGAND_LOG2FC_RANGE;
  const [loW, hiW] = CHORD_WIDTH;
  const dim = wanted.size > 0;
  const opacity = chordOpacity(n);
  const shapes = [];
  // one shape per (highlighted, colour bin, width bin), in sorted order
  const paths = shapesOf.chordPaths(placed, atLigand, atReceptor, radius);
  const palette = colors.binColors(colors.BLUE_WHITE_RED, loC, hiC, COLOR_BINS);
  const colorBin = mapArray(log2fc, (v) =>
    asInt(Math.min(COLOR_BINS - 1, clip01((v - loC) / (hiC - loC)) * COLOR_BINS)),
  );
  const widthBin = mapArray(numsig, (v) =>
    Math.min(WIDTH_BINS - 1, asInt((v / nMax) * WIDTH_BINS)),
  );
  const groups = new Map();
  for (let i = 0; i < n; i += 1) {
    const key = `${highlighted[i] ? 1 : 0},${colorBin[i]},${widthBin[i]}`;
    if (!groups.has(key)) {
      groups.set(key, { h: highlighted[i], c: colorBin[i], w: widthBin[i], members: [] });
    }
    groups.get(key).members.push(i);
  }
  const ordered = [...groups.values()].sort(
    (a, b) => Number(a.h) - Number(b.h) || a.c - b.c || a.w - b.w,
  );
  for (const { h, c: cb, w, members } of ordered) {
    const alpha = h || !dim ? 1.0 : DIM_ALPHA;
    shapes.push(
      shapesOf.pathShape(
        "chords",
        members.map((i) => paths[i]),
        {
          line: {
            color: palette.at(cb),
            // round() of a numpy float64 (the bin is a numpy int): numpy's rounding
            width: npRound(loW + ((hiW - loW) * (w + 1)) / WIDTH_BINS, 2),
          },
          opacity: pyRound(opacity * alpha, 3),
        },
      ),
    );
  }
  const lfcText = fmtMany(c.MAST_log2FC_ligand);
  const fdrText = fmtMany(c.MAST_fdr_ligand);
  const hover = Array.from(
    { length: n },
    (_, i) =>
      `<b>${esc(c.ligand[i])}</b> (${esc(c.cell_type_ligand[i])}) → ` +
      `<b>${esc(c.receptor[i])}</b> (${esc(c.cell_type_receptor[i])})` +
      `<br>numSigI1: ${cellText(kindOf(chords, "numSigI1"), c.numSigI1[i])}` +
      `<br>numDEG: ${cellText(kindOf(chords, "numDEG"), c.numDEG[i])}` +
      `<br>ligand log2FC: ${lfcText[i]} (FDR ${fdrText[i]})`,
  );
  // one hover point per chord, a quarter of the way from the ligand (where chords are apart)
  const hoverLine = {
    type: "scatterpolar",
    mode: "none",
    name: "chords",
    r: nums(hoverR, 3),
    theta: nums(hoverTheta, 2),
    hovertext: hover,
    hoverinfo: "text",
    customdata: ligKeys.map((a, i) => [a, recKeys[i]]),
    showlegend: false,
  };
  const scale = scaleTrace("ligand log2FC", colors.BLUE_WHITE_RED, colors.LIGAND_LOG2FC_RANGE, {
    title: { text: "ligand log2FC", side: "right" },
    ...colorbar,
  });
  return [[hoverLine, scale], shapes];
}

/** Python's floor division of two ints (`//`). */
function floorDiv(a, b) {
  return Math.floor(a / b);
}

/** The chord-width legend: numSigI1 at the shown minimum, middle and maximum. */
export function widthLegend(chords) {
  if (!chords.length) return [];
  const [loF, hiF] = minMax(chords.columns.numSigI1);
  const lo = Math.trunc(loF);
  const hi = Math.trunc(hiF);
  if (hi === 0) throw new Error("ZeroDivisionError: division by zero");
  const [loW, hiW] = CHORD_WIDTH;
  const values = [...new Set([lo, floorDiv(lo + hi, 2), hi])].sort((a, b) => a - b);
  return values.map((v) => ({
    type: "scatterpolar",
    mode: "lines",
    r: [null],
    theta: [null],
    name: `numSigI1 = ${v}`,
    line: { width: pyRound(loW + ((hiW - loW) * v) / hi, 2), color: "#777777" },
    legendgroup: "encodings",
    legendgrouptitle: { text: "Encodings" },
    hoverinfo: "skip",
    showlegend: true,
  }));
}
