// The pairwise-interactions figure in the browser: the port of ctsite/figures/pairwise.py,
// function by function (the conformance suite holds the two equal, JSON and CSV).
//
// Selection and filters follow SPEC-site.md exactly: ligand in cell type 1 → receptor in 2 (and
// 2 → 3 with a third cell type); bidirectional adds the reverse directions (and 1 ↔ 3); then
// numSigI1 ≥ min, both expressions ≥ min, both MAST_fdr < t_l, |ligand log2FC| > min; ordered by
// numDEG, descending.

import * as colors from "./colors.js";
import {
  EMPTY_MESSAGE,
  PAIR_COLUMNS,
  ROLE_LABEL,
  arrowTrace,
  baseLayout,
  edgeMidpointsTrace,
  emptyFigure,
  esc,
  fmt,
  fraction,
  hiddenAxis,
  legendMarker,
  num,
  role,
} from "./common.js";
import * as fit from "./fit.js";
import { Frame, compareValues, minMax } from "./frame.js";
import * as geometry from "./geometry.js";
import { formatF, formatThousands, pyRound } from "./py.js";

export const EDGE_WIDTH = [2.0, 6.0];
export const MAX_EDGES = 300;
const SYMBOLS = { ligand: "circle", receptor: "square", both: "diamond", gene: "circle-open" };
const COLUMN_GAP = 1.0;
const ROW_GAP = 1.0;
const NODE_PAD = 0.09;
const LABEL_FONT = 12;
const HEADER_FONT = 13;
const NODE_SIZE = 16;
const LEGEND_HEIGHT = 90;
export const TABLE_COLUMNS = [
  ...PAIR_COLUMNS,
  "MAST_log2FC_ligand",
  "MAST_fdr_ligand",
  "expression_ligand",
  "MAST_log2FC_receptor",
  "MAST_fdr_receptor",
  "expression_receptor",
  "DA_ligand",
  "DA_receptor",
  "cell_type_ligand_dc1",
  "cell_type_receptor_dc1",
];

/** Ordered [ligand column, receptor column] pairs that the selection includes. */
export function directions(nColumns, bidirectional) {
  const pairs = [[0, 1]];
  if (nColumns > 2) pairs.push([1, 2]);
  if (bidirectional) {
    pairs.push([1, 0]);
    if (nColumns > 2) pairs.push([2, 1], [0, 2], [2, 0]);
  }
  return pairs;
}

function withFractions(rows) {
  return rows.assign({
    expression_ligand: ["float64", fraction(Float64Array.from(rows.columns.expression_ligand))],
    expression_receptor: ["float64", fraction(Float64Array.from(rows.columns.expression_receptor))],
  });
}

/** The spec's filters of a pair row (expression already as fractions), as a row predicate. */
function kept(rows, fdrL, minNumsigi1, minExpression, minLog2fc) {
  const c = rows.columns;
  const t = (name, x) => rows.asColumnType(name, x);
  const fdrLig = t("MAST_fdr_ligand", fdrL);
  const fdrRec = t("MAST_fdr_receptor", fdrL);
  const minFc = t("MAST_log2FC_ligand", minLog2fc);
  return (i) =>
    c.numSigI1[i] >= minNumsigi1 &&
    c.expression_ligand[i] >= minExpression &&
    c.expression_receptor[i] >= minExpression &&
    c.MAST_fdr_ligand[i] < fdrLig &&
    c.MAST_fdr_receptor[i] < fdrRec &&
    Math.abs(c.MAST_log2FC_ligand[i]) > minFc;
}

/** The spec's selection and filters; adds `column_ligand`/`column_receptor` (0-based). */
export function selectEdges(pairs, columns, bidirectional, fdrL, minNumsigi1, minExpression, minLog2fc) {
  const parts = directions(columns.length, bidirectional).map(([a, b]) =>
    pairs
      .where(
        (i) =>
          pairs.columns.cell_type_ligand[i] === columns[a] &&
          pairs.columns.cell_type_receptor[i] === columns[b],
      )
      .assign({ column_ligand: ["int64", () => a], column_receptor: ["int64", () => b] }),
  );
  let selected = Frame.concat(parts, parts[0]);
  // a row can match two directions when cell types repeat: keep its first placement
  selected = selected.dropDuplicates(["ligand", "cell_type_ligand", "receptor", "cell_type_receptor"]);
  selected = withFractions(selected);
  const edges = selected.where(kept(selected, fdrL, minNumsigi1, minExpression, minLog2fc));
  return edges.sortBy(["numDEG", "numSigI1", "ligand", "receptor"], [false, false, true, true]);
}

/** The figure, its table and its message for checked parameters (`params.js`). */
export function build(store, params) {
  const columns = [params.cell_type1, params.cell_type2];
  if (params.cell_type3) columns.push(params.cell_type3);
  const wanted = [...new Set(columns)].sort(compareValues);
  const pairs = store.pairwise_table(params.condition, params.fdr_i, wanted);
  let edges = selectEdges(
    pairs,
    columns,
    Boolean(params.bidirectional),
    params.fdr_l,
    params.min_numsigi1,
    params.min_expression,
    params.min_log2fc,
  );
  const total = edges.length;
  edges = edges.head(MAX_EDGES);
  const table = edges.only(TABLE_COLUMNS);
  if (edges.length === 0) return { figure: emptyFigure(EMPTY_MESSAGE), table, message: EMPTY_MESSAGE };
  const figure = pairwiseFigure(edges, columns, store);
  let message = null;
  if (total > MAX_EDGES) {
    message =
      `Showing the ${MAX_EDGES} interactions with the most DEGs of ${formatThousands(total)} — raise the ` +
      "minimum interaction effect, expression or |log2FC| to see them all";
  }
  return { figure, table, message };
}

function nodeRole(store, gene) {
  return role(store.receptors_of(gene).length > 0, store.ligands_of(gene).length > 0);
}

/** Nodes per column (ordered by first appearance in the numDEG-sorted edges) and edges. */
export function pairwiseFigure(edges, columns, store) {
  const palette = store.cell_type_colors;
  const nodes = new Map(); // "column\u0000gene" → attributes, in order of first appearance
  const keyOf = (col, gene) => `${col}\u0000${gene}`;
  for (let r = 0; r < edges.length; r++) {
    const row = edges.row(r);
    for (const side of ["ligand", "receptor"]) {
      const col = Number(row[`column_${side}`]);
      const gene = String(row[side]);
      const key = keyOf(col, gene);
      if (!nodes.has(key)) {
        nodes.set(key, {
          col,
          gene,
          cell_type: row[`cell_type_${side}`],
          expression: Number(row[`expression_${side}`]),
          log2fc: Number(row[`MAST_log2FC_${side}`]),
          fdr: Number(row[`MAST_fdr_${side}`]),
        });
      }
    }
  }
  const perColumn = columns.map(() => []);
  for (const node of nodes.values()) perColumn[node.col].push(node);
  const ys = geometry.columnPositions(perColumn.map((c) => c.length), ROW_GAP);
  const pos = new Map();
  perColumn.forEach((list, col) => {
    list.forEach((node, i) => pos.set(keyOf(node.col, node.gene), [col * COLUMN_GAP, ys[col][i]]));
  });
  const nRows = Math.max(...perColumn.map((c) => c.length));
  const half = (Math.max(nRows - 1, 1) * ROW_GAP) / 2 + 0.8;

  const traces = [];
  traces.push(...edgeTraces(edges, pos, keyOf));
  traces.push(nodeTrace([...nodes.values()], pos, keyOf, store, columns.length));
  for (const r of ["ligand", "receptor", "both"]) {
    traces.push(legendMarker(ROLE_LABEL[r], SYMBOLS[r], "#ffffff", "roles", "Node type"));
  }

  const all = [...nodes.values()];
  const left = all.filter((n) => n.col === 0).map((n) => n.gene);
  const right = all.filter((n) => n.col === columns.length - 1).map((n) => n.gene);
  const marginLeft = fit.labelMargin(left, LABEL_FONT, NODE_SIZE);
  const marginRight = fit.labelMargin(right, LABEL_FONT, NODE_SIZE);
  const xRange = [-0.36 * COLUMN_GAP, (columns.length - 0.64) * COLUMN_GAP];
  const phonePlot = Math.max(100, fit.PHONE_FIGURE_WIDTH - marginLeft - marginRight);
  const headerWidth = (phonePlot / (xRange[1] - xRange[0])) * COLUMN_GAP - 12;
  const headers = columns.map((name) => fit.wrapName(name, headerWidth, HEADER_FONT));
  const extraTop = Math.max(0, Math.max(...headers.map((h) => h.length)) - 2) * pyRound(HEADER_FONT * 1.3);
  const shapes = [];
  const annotations = [];
  columns.forEach((name, col) => {
    const color = palette[name] ?? "#888888";
    const x = col * COLUMN_GAP;
    shapes.push({
      type: "rect",
      xref: "x",
      yref: "y",
      x0: x - 0.32 * COLUMN_GAP,
      x1: x + 0.32 * COLUMN_GAP,
      y0: -half,
      y1: half,
      fillcolor: colors.withAlpha(color, 0.12),
      line: { color: colors.withAlpha(color, 0.6), width: 1 },
      layer: "below",
    });
    annotations.push({
      x,
      y: half,
      xref: "x",
      yref: "y",
      yanchor: "bottom",
      text: headers[col].map((part) => `<b>${esc(part)}</b>`).join("<br>"),
      showarrow: false,
      font: { size: HEADER_FONT, color: fit.readableInk(color) },
      bgcolor: color,
      borderpad: 4,
    });
  });
  const layout = baseLayout(Math.max(420, Math.min(2400, 160 + 34 * nRows)) + LEGEND_HEIGHT + extraTop);
  Object.assign(layout, {
    xaxis: { ...hiddenAxis(), range: xRange, fixedrange: false },
    yaxis: { ...hiddenAxis(), range: [-half - 0.3, half + 1.2] },
    margin: { l: marginLeft, r: marginRight, t: 26 + extraTop, b: 20 },
    shapes,
    annotations,
    showlegend: true,
    meta: { figure: "pairwise", columns },
  });
  fit.scalesBelow(traces, layout, LEGEND_HEIGHT);
  return { data: traces, layout };
}

/** One trace per edge (a line with an arrowhead) plus a hover point in each edge's middle. */
function edgeTraces(edges, pos, keyOf) {
  const [loN, hiN] = minMax(edges.columns.numSigI1);
  const [loC, hiC] = colors.LIGAND_LOG2FC_RANGE;
  const traces = [];
  const midX = [];
  const midY = [];
  const hover = [];
  const values = [];
  for (let r = 0; r < edges.length; r++) {
    const row = edges.row(r);
    const a = pos.get(keyOf(Number(row.column_ligand), String(row.ligand)));
    const b = pos.get(keyOf(Number(row.column_receptor), String(row.receptor)));
    const [x0, y0, x1, y1] = geometry.shorten(...a, ...b, NODE_PAD, NODE_PAD);
    const width = geometry.scale(Number(row.numSigI1), loN, hiN, ...EDGE_WIDTH);
    const log2fc = Number(row.MAST_log2FC_ligand);
    const color = colors.sample(colors.BLUE_WHITE_RED, log2fc, loC, hiC);
    traces.push(
      arrowTrace(
        x0,
        y0,
        x1,
        y1,
        color,
        width,
        8 + 2 * width,
        {
          ligand: `${row.cell_type_ligand}|${row.ligand}`,
          receptor: `${row.cell_type_receptor}|${row.receptor}`,
        },
        { markerLine: { width: 0.5, color: "#555555" } },
      ),
    );
    midX.push(num((x0 + x1) / 2));
    midY.push(num((y0 + y1) / 2));
    values.push(num(Math.min(hiC, Math.max(loC, log2fc))));
    hover.push(
      `Ligand: <b>${esc(row.ligand)}</b> (${esc(row.cell_type_ligand)})` +
        `<br>Receptor: <b>${esc(row.receptor)}</b> (${esc(row.cell_type_receptor)})` +
        `<br>Interactions (numSigI1): ${Number(row.numSigI1)}` +
        `<br>numDEG: ${Number(row.numDEG)}` +
        `<br>Ligand logFC: ${fmt(log2fc)}`,
    );
  }
  traces.push(
    edgeMidpointsTrace(midX, midY, values, hover, {
      colorscale: colors.colorscale(colors.BLUE_WHITE_RED),
      cmin: loC,
      cmax: hiC,
      title: "Ligand log2FC",
      size: 7,
      length: 0.4,
      lineColor: "#666666",
      opacity: 0.9,
    }),
  );
  return traces;
}

function nodeTrace(nodes, pos, keyOf, store, nColumns) {
  const roles = nodes.map((n) => nodeRole(store, n.gene));
  const positions = nodes.map((n) =>
    n.col === 0 ? "middle left" : n.col === nColumns - 1 ? "middle right" : "top center",
  );
  return {
    type: "scatter",
    mode: "markers+text",
    name: "genes",
    x: nodes.map((n) => num(pos.get(keyOf(n.col, n.gene))[0])),
    y: nodes.map((n) => num(pos.get(keyOf(n.col, n.gene))[1])),
    text: nodes.map((n) => esc(n.gene)),
    textposition: positions,
    textfont: { size: LABEL_FONT },
    cliponaxis: false,
    marker: {
      symbol: roles.map((r) => SYMBOLS[r]),
      size: NODE_SIZE,
      color: nodes.map((n) => num(n.expression)),
      colorscale: colors.colorscale(colors.GREYS),
      cmin: 0.0,
      cmax: 1.0,
      line: { width: 1, color: "#222222" },
      showscale: true,
      colorbar: {
        title: { text: "Expression", side: "right" },
        thickness: 12,
        len: 0.4,
        y: 0.0,
        yanchor: "bottom",
        tickformat: ".0%",
        outlinewidth: 0,
      },
    },
    hovertext: nodes.map(
      (n, i) =>
        `Name: <b>${esc(n.gene)}</b><br>Cell type: ${esc(n.cell_type)}` +
        `<br>Type: ${ROLE_LABEL[roles[i]]}` +
        `<br>Expression: ${formatF(n.expression * 100, 1)}%` +
        `<br>logFC: ${fmt(n.log2fc)}` +
        ` (FDR ${fmt(n.fdr)})`,
    ),
    hoverinfo: "text",
    customdata: nodes.map((n) => `${n.cell_type}|${n.gene}`),
    showlegend: false,
  };
}
