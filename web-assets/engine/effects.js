// The ligand (cascading) effects figure in the browser: the port of ctsite/figures/effects.py —
// a left-to-right timeline of the propagation (effects_bfs.js), one column per step, nodes
// coloured by cell type, symbol by role, edges coloured by the induced log2FC (cividis over
// [−0.5, 0.5]) with width by |log2FC|.

import * as colors from "./colors.js";
import {
  arrowTrace,
  baseLayout,
  edgeMidpointsTrace,
  emptyFigure,
  esc,
  fmt,
  hiddenAxis,
  legendMarker,
  num,
  role,
} from "./common.js";
import { propagate } from "./effects_bfs.js";
import * as fit from "./fit.js";
import { Frame, compareValues } from "./frame.js";
import * as geometry from "./geometry.js";
import * as labels from "./labels.js";
import { formatF, pyRound } from "./py.js";
import { plainText, textWidth } from "./svg_text.js";

export const NO_EFFECTS = "No effects pass these filters — try loosening them";
const SYMBOLS = { receptor: "square", ligand: "triangle-up", both: "pentagon", gene: "circle" };
const ROLE_NAMES = {
  receptor: "Receptor",
  ligand: "Ligand",
  both: "Ligand & receptor",
  gene: "Other gene",
};
const NODE_SIZE = [9.0, 28.0];
const EDGE_WIDTH = [1.0, 6.0];
const PER_EDGE_TRACES = 400;
const NODE_PAD = 0.06;
const LABEL_FONT = 11;
const LABEL_ROOM_RIGHT = 0.55;
const MARGIN_TOP = 60;
const LEGEND_ROOM = 110;
const NARROW_WIDTH = 340;
const LABEL_SHADOW = "1px 1px 2px #fff, -1px -1px 2px #fff, 1px -1px 2px #fff, -1px 1px 2px #fff";
export const TABLE_COLUMNS = [
  "step",
  "kind",
  "source_gene",
  "source_cell_type",
  "source_role",
  "target_gene",
  "target_cell_type",
  "target_role",
  "log2FC",
  "fdr",
  "i1.fdr",
  "expression",
];
const FLOAT_COLUMNS = new Set(["log2FC", "fdr", "i1.fdr", "expression"]);

/** The propagation for checked parameters. */
export function run(store, params) {
  const th = {
    fdr_i: params.fdr_i,
    fdr_l: params.fdr_l,
    min_log2fc: params.min_log2fc,
    min_expression: params.min_expression,
  };
  return propagate(store, params.condition, params.cell_type, [...params.seeds], Number(params.steps), th);
}

export function nodeRole(store, gene) {
  return role(store.receptors_of(gene).length > 0, store.ligands_of(gene).length > 0);
}

/** One row per edge drawn (float columns typed, so the CSV writes them as pandas does). */
export function effectsTable(store, graph) {
  const rows = graph.edges.map((e) => ({
    step: e.step,
    kind: e.kind,
    source_gene: e.source.gene,
    source_cell_type: e.source.cell_type,
    source_role: nodeRole(store, e.source.gene),
    target_gene: e.target.gene,
    target_cell_type: e.target.cell_type,
    target_role: nodeRole(store, e.target.gene),
    log2FC: e.log2FC,
    fdr: e.fdr,
    "i1.fdr": e["i1.fdr"],
    expression: e.expression,
  }));
  return Frame.of(
    TABLE_COLUMNS.map((name) => {
      const values = rows.map((r) => r[name]);
      if (FLOAT_COLUMNS.has(name)) return [name, "float64", Float64Array.from(values)];
      return [name, name === "step" ? "int64" : "object", values];
    }),
  );
}

export function build(store, params) {
  const graph = run(store, params);
  const table = effectsTable(store, graph);
  if (!graph.edges.length) return { figure: emptyFigure(NO_EFFECTS), table, message: NO_EFFECTS };
  const figure = effectsFigure(store, graph, params.seeds, params.cell_type);
  let message = null;
  if (graph.stopped && graph.stopped.includes("more than")) {
    message = `Propagation ${graph.stopped}; raise the thresholds to see further steps`;
  }
  return { figure, table, message };
}

/** Node key → [x, y]: one column per step, each column ordered by cell type then gene. */
function layoutNodes(graph, order) {
  const columns = new Map();
  for (const [n, step] of graph.steps.values()) {
    if (!columns.has(step)) columns.set(step, []);
    columns.get(step).push(n);
  }
  const nSteps = Math.max(...columns.keys()) + 1;
  const rank = (n) => order.get(n.cell_type) ?? order.size;
  const perColumn = [];
  for (let s = 0; s < nSteps; s++) {
    const list = [...(columns.get(s) ?? [])];
    list.sort((a, b) => rank(a) - rank(b) || compareValues(a.gene, b.gene));
    perColumn.push(list);
  }
  const ys = geometry.columnPositions(perColumn.map((c) => c.length), 1.0);
  const pos = new Map();
  perColumn.forEach((list, step) => list.forEach((n, i) => pos.set(n.key, [step, ys[step][i]])));
  return pos;
}

export function effectsFigure(store, graph, seeds, seedCellType) {
  const palette = store.cell_type_colors;
  const order = new Map(store.cell_types.map((c, i) => [c, i]));
  const pos = layoutNodes(graph, order);
  const weight = new Map([...graph.steps.keys()].map((k) => [k, 0.0]));
  for (const e of graph.edges) weight.set(e.target.key, weight.get(e.target.key) + Math.abs(e.log2FC));
  const maxW = Math.max(...weight.values()) || 1.0;
  const traces = edgeTraces(graph, pos);
  const nodes = [...graph.steps.values()].map(([n]) => n);
  const stepOf = (n) => graph.steps.get(n.key)[1];
  const roles = new Map(nodes.map((n) => [n.key, nodeRole(store, n.gene)]));
  const isSeed = nodes.map((n) => stepOf(n) === 0);
  const texts = nodes.map((n, i) => (isSeed[i] ? `<b>${esc(n.gene)}</b>` : esc(n.gene)));
  const sizes = nodes.map((n, i) =>
    pyRound(isSeed[i] ? 22.0 : geometry.scale(weight.get(n.key), 0.0, maxW, ...NODE_SIZE), 1),
  );
  const stepValues = nodes.map(stepOf);
  const nSteps = Math.max(...stepValues) + 1;
  let rows = 0;
  for (let k = 0; k < nSteps; k++) rows = Math.max(rows, stepValues.filter((s) => s === k).length);
  const half = Math.max(rows - 1, 1) / 2 + 0.6;
  const height = Math.max(420, Math.min(2400, 170 + 34 * rows));
  const yRange = [-half, half + 0.4];
  const xRange = [-0.35, nSteps - 0.75 + LABEL_ROOM_RIGHT / 2];
  const plain = texts.map((t) => plainText(t)[0]);
  const marginLeft = fit.labelMargin(plain.filter((_, i) => stepValues[i] === 0), LABEL_FONT, 22, true);
  const marginRight = fit.labelMargin(
    plain.filter((_, i) => stepValues[i] === nSteps - 1),
    LABEL_FONT,
    NODE_SIZE[1],
  );
  const plotFrame = new labels.Frame(
    xRange,
    yRange,
    Math.max(120, NARROW_WIDTH - marginLeft - marginRight),
    height - MARGIN_TOP - LEGEND_ROOM,
  );
  const positions = labels.placeLabels(
    nodes.map((n) => pos.get(n.key)),
    sizes,
    texts,
    preferredSides(graph, nodes),
    plotFrame,
    LABEL_FONT,
  );
  traces.push({
    type: "scatter",
    mode: "markers+text",
    name: "genes",
    x: nodes.map((n) => num(pos.get(n.key)[0])),
    y: nodes.map((n) => num(pos.get(n.key)[1])),
    text: texts,
    textposition: positions,
    cliponaxis: false,
    textfont: { size: LABEL_FONT, shadow: LABEL_SHADOW },
    marker: {
      symbol: nodes.map((n, i) => SYMBOLS[roles.get(n.key)] + (isSeed[i] ? "-dot" : "")),
      size: sizes,
      color: nodes.map((n) => palette[n.cell_type] ?? "#888888"),
      line: { width: isSeed.map((s) => (s ? 3 : 1)), color: "#111111" },
    },
    hovertext: nodes.map(
      (n, i) =>
        `<b>${esc(n.gene)}</b>${isSeed[i] ? " (seed)" : ""}<br>Cell type: ${esc(n.cell_type)}` +
        `<br>Type: ${ROLE_NAMES[roles.get(n.key)]}<br>Step: ${stepOf(n)}` +
        `<br>Expression: ${formatF(store.expression(n.cell_type, n.gene) * 100, 1)}%` +
        `<br>Weight (Σ|log2FC| in): ${fmt(weight.get(n.key))}`,
    ),
    hoverinfo: "text",
    customdata: nodes.map((n) => `${n.cell_type}|${n.gene}`),
    showlegend: false,
  });
  const rank = (c) => order.get(c) ?? order.size;
  const present = [...new Set(nodes.map((n) => n.cell_type))].sort((a, b) => rank(a) - rank(b));
  for (const c of present) traces.push(legendMarker(esc(c), "circle", palette[c] ?? "#888888", "ct", "Cell type"));
  const roleValues = new Set(roles.values());
  const shownRoles = ["receptor", "ligand", "both", "gene"].filter((r) => roleValues.has(r));
  for (const r of shownRoles) traces.push(legendMarker(ROLE_NAMES[r], SYMBOLS[r], "#ffffff", "roles", "Gene"));
  traces.push(legendMarker("Seed ligand", "circle-dot", "#ffffff", "roles", "Gene"));
  const roleCount = shownRoles.length + 1;
  const legendHeight = (present.length + roleCount + 2) * 20 + 16;
  const entries = [...present, ...Object.values(ROLE_NAMES), "Seed ligand"];
  const widest = Math.max(...entries.map((c) => textWidth(c, LABEL_FONT + 1))) + 56;
  const beside = pyRound(widest / Math.max(120, NARROW_WIDTH - marginLeft - marginRight), 3);
  const bottom = fit.bottomMargin(legendHeight, true, beside);
  const layout = baseLayout(height - LEGEND_ROOM + bottom);
  Object.assign(layout, {
    xaxis: {
      ...hiddenAxis(),
      visible: true,
      showticklabels: true,
      tickmode: "array",
      tickvals: [...Array(nSteps).keys()],
      ticktext: ["seeds", ...[...Array(nSteps - 1).keys()].map((k) => `step ${k + 1}`)],
      range: xRange,
      side: "top",
    },
    yaxis: { ...hiddenAxis(), range: yRange },
    margin: { l: marginLeft, r: marginRight, t: MARGIN_TOP, b: 20 },
    showlegend: true,
    meta: { figure: "effects", seed_cell_type: seedCellType, seeds: [...new Set(seeds)].sort(compareValues) },
  });
  fit.scalesBelow(traces, layout, legendHeight, beside, "v");
  return { data: traces, layout };
}

/** Each label on the side of its node with fewer edges: seeds left, the last column right. */
function preferredSides(graph, nodes) {
  const incoming = new Map(nodes.map((n) => [n.key, 0]));
  const outgoing = new Map(nodes.map((n) => [n.key, 0]));
  for (const e of graph.edges) {
    outgoing.set(e.source.key, outgoing.get(e.source.key) + 1);
    incoming.set(e.target.key, incoming.get(e.target.key) + 1);
  }
  return nodes.map((n) => (incoming.get(n.key) < outgoing.get(n.key) ? "middle left" : "middle right"));
}

function edgeHover(e) {
  const src = e.source;
  const dst = e.target;
  if (e.kind === "ligand→receptor") {
    return (
      `Ligand: <b>${esc(src.gene)}</b> (${esc(src.cell_type)})` +
      `<br>Receptor: <b>${esc(dst.gene)}</b> (${esc(dst.cell_type)})` +
      `<br>Receptor log2FC: ${fmt(e.log2FC)} (FDR ${fmt(e.fdr)})`
    );
  }
  return (
    `Receptor: <b>${esc(src.gene)}</b> (${esc(src.cell_type)})` +
    `<br>Induced gene: <b>${esc(dst.gene)}</b>` +
    `<br>Induced log2FC: ${fmt(e.log2FC)} (FDR ${fmt(e.fdr)}, ` +
    `interaction FDR ${fmt(e["i1.fdr"])})`
  );
}

function edgeTraces(graph, pos) {
  const [loC, hiC] = colors.INDUCED_LOG2FC_RANGE;
  const maxAbs = Math.max(...graph.edges.map((e) => Math.abs(e.log2FC))) || 1.0;
  const traces = [];
  const grouped = new Map(); // "dash\u0000bin\u0000width" → {key, xs, ys}
  const bins = colors.binColors(colors.CIVIDIS, loC, hiC, 9);
  const midX = [];
  const midY = [];
  const values = [];
  const hover = [];
  const many = graph.edges.length > PER_EDGE_TRACES;
  for (const e of graph.edges) {
    const [x0, y0, x1, y1] = geometry.shorten(...pos.get(e.source.key), ...pos.get(e.target.key), NODE_PAD, NODE_PAD);
    const width = geometry.scale(Math.abs(e.log2FC), 0.0, maxAbs, ...EDGE_WIDTH);
    const dash = e.kind === "ligand→receptor" ? "dot" : "solid";
    if (many) {
      const key = [dash, colors.binIndex(e.log2FC, loC, hiC, 9), Math.trunc(width)];
      const id = key.join("\u0000");
      if (!grouped.has(id)) grouped.set(id, { key, xs: [], ys: [] });
      const group = grouped.get(id);
      group.xs.push(num(x0), num(x1), null);
      group.ys.push(num(y0), num(y1), null);
    } else {
      const color = colors.sample(colors.CIVIDIS, e.log2FC, loC, hiC);
      traces.push(
        arrowTrace(
          x0,
          y0,
          x1,
          y1,
          color,
          width,
          7 + 1.5 * width,
          {
            source: `${e.source.cell_type}|${e.source.gene}`,
            target: `${e.target.cell_type}|${e.target.gene}`,
          },
          { dash, opacity: 0.85 },
        ),
      );
    }
    midX.push(num((x0 + x1) / 2));
    midY.push(num((y0 + y1) / 2));
    values.push(num(Math.min(hiC, Math.max(loC, e.log2FC))));
    hover.push(edgeHover(e));
  }
  const groups = [...grouped.values()].sort(
    (a, b) => compareValues(a.key[0], b.key[0]) || a.key[1] - b.key[1] || a.key[2] - b.key[2],
  );
  for (const { key, xs, ys } of groups) {
    const [dash, c, w] = key;
    traces.push({
      type: "scatter",
      mode: "lines",
      x: xs,
      y: ys,
      line: { color: bins[c], width: w + 0.5, dash },
      opacity: 0.8,
      hoverinfo: "skip",
      showlegend: false,
    });
  }
  traces.push(
    edgeMidpointsTrace(midX, midY, values, hover, {
      colorscale: colors.colorscale(colors.CIVIDIS),
      cmin: loC,
      cmax: hiC,
      title: "log2FC",
      size: 6,
      length: 0.5,
      lineColor: "#444444",
    }),
  );
  return traces;
}
