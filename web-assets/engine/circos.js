// The Circos figure: filter (circos_data.js) → draw (circos_draw.js), with at most MAX_CHORDS
// chords drawn (the strongest; searched genes first). The port of ctsite/figures/circos.py.

import { CHORD_COLUMNS, NODE_COLUMNS, filterCircos, markChordEnds } from "./circos_data.js";
import { circosFigure, highlightedChords } from "./circos_draw.js";
import { WIDTH_CLASSES } from "./circos_labels.js";
import { EMPTY_MESSAGE, emptyFigure } from "./common.js";
import { Frame } from "./frame.js";
import { formatThousands } from "./py.js";

export const MAX_CHORDS = 1500;

// The store's LR list, read once per store (a store never changes; the same list lets the
// filters reuse what they computed for it, see circos_data.js).
const LR_PAIRS = new WeakMap();

/** The filtered nodes and chords for these (checked) parameters. */
export function circosData(store, params) {
  if (!LR_PAIRS.has(store)) LR_PAIRS.set(store, store.lr_pairs());
  return filterCircos(
    store.circos_table(params.condition, params.fdr_i),
    LR_PAIRS.get(store),
    [...store.cell_types],
    params.fdr_l,
    params.min_numsigi1,
    params.min_numdeg,
    params.min_log2fc,
  );
}

/** At most `limit` chords: highlighted first, then the strongest (in their own order). */
export function limitChords(data, genes, limit = MAX_CHORDS) {
  if (data.chords.length <= limit) return data;
  const hl = highlightedChords(data.chords, genes);
  const first = [];
  const rest = [];
  for (let i = 0; i < data.chords.length; i++) (hl[i] ? first : rest).push(i);
  const chosen = [...first.slice(0, limit), ...rest.slice(0, limit - Math.min(first.length, limit))];
  chosen.sort((a, b) => a - b);
  const chords = data.chords.take(chosen);
  return { nodes: markChordEnds(data.nodes, chords), chords };
}

export function build(store, params) {
  const genes = new Set(params.genes ?? []);
  let data = circosData(store, params);
  const total = data.chords.length;
  data = limitChords(data, genes);
  const drawn = data;
  // the CSV's rows, made when they are read (a download), not with every view
  let rows = null;
  const result = (figure, message) => ({
    figure,
    message,
    get table() {
      rows ??= circosTable(drawn, genes);
      return rows;
    },
  });
  if (data.nodes.length === 0) return result(emptyFigure(EMPTY_MESSAGE), EMPTY_MESSAGE);
  const figure = circosFigure(data, store.cell_type_colors, genes, WIDTH_CLASSES[params.size ?? "desktop"]);
  let message = null;
  if (data.chords.length === 0) {
    message = "No chords pass these filters — try loosening them";
  } else if (total > data.chords.length) {
    message =
      `Showing the ${formatThousands(data.chords.length)} strongest of ${formatThousands(total)} chords (by numSigI1) — ` +
      "raise the minimum interaction effect or |log2FC| to see them all";
  } else if (genes.size && !highlightedChords(data.chords, genes).some(Boolean)) {
    message = "None of the highlighted genes has a chord in this view";
  }
  return result(figure, message);
}

/** The CSV rows: every node (kind="node") and every chord drawn (kind="chord"), as pandas'
 * concat + reindex makes them: a column only one part has is missing (NaN) in the other's rows,
 * so an integer column with gaps becomes float64 and a boolean one `object`. */
export function circosTable(data, genes) {
  const names = ["kind", ...NODE_COLUMNS, "has_chord"];
  for (const c of CHORD_COLUMNS) if (!names.includes(c)) names.push(c);
  names.push("highlighted");
  const targets = data.nodes.columns.target;
  const nodes = data.nodes.assign({
    kind: ["object", () => "node"],
    highlighted: ["bool", (i) => genes.has(targets[i])],
  });
  const hl = highlightedChords(data.chords, genes);
  const chords = data.chords.assign({
    kind: ["object", () => "chord"],
    highlighted: ["bool", (i) => Boolean(hl[i])],
  });
  const parts = [nodes, chords].filter((t) => t.length > 0);
  const total = parts.reduce((n, t) => n + t.length, 0);
  const specs = names.map((name) => {
    const having = parts.filter((t) => t.has(name));
    // (one array filled in place: flatMap over copies took ~10 ms of a study-scale view)
    const values = new Array(total);
    let at = 0;
    for (const t of parts) {
      const column = t.has(name) ? t.columns[name] : null;
      for (let i = 0; i < t.length; i += 1) values[at + i] = column === null ? null : column[i];
      at += t.length;
    }
    const dtypes = new Set(having.map((t) => t.dtypes[name]));
    const gaps = having.length < parts.length;
    let dtype = dtypes.size === 1 ? [...dtypes][0] : "float64";
    if (!having.length) dtype = "object";
    else if (gaps && (dtype.startsWith("int") || dtype === "bool" || dtype === "object")) {
      dtype = dtype === "bool" || dtype === "object" ? "object" : "float64";
    } else if (gaps && dtype === "float32") dtype = "float32";
    return [name, dtype, values];
  });
  return Frame.of(specs);
}
