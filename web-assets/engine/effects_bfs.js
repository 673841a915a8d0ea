// Breadth-first propagation of ligand effects (SPEC-site.md, "Ligand effects"): the port of
// ctsite/figures/effects_bfs.py. Layer 0 holds the seed ligands in the chosen cell type; each
// step expands the previous layer (ligand → receptors in every cell type passing the receptor
// rules; receptor → downstream genes passing the interaction rules), stopping early when a step
// finds nothing new or its new layer exceeds FRONTIER_CAP.

import { fraction } from "./common.js";

export const FRONTIER_CAP = 45;

/** A node: a gene in a cell type; `key` identifies it (Python's frozen dataclass equality). */
export function node(gene, cellType) {
  return { gene, cell_type: cellType, key: `${cellType}\u0000${gene}` };
}

/** receptor gene → [[cell type, MAST log2FC, MAST fdr]] passing the receptor's MAST rules. */
function receptorRows(store, condition, th) {
  const t = store.mast_table(condition);
  const c = t.columns;
  const minFc = t.asColumnType("MAST_log2FC", th.min_log2fc);
  const fdrL = t.asColumnType("MAST_fdr", th.fdr_l);
  let rec = t.where(
    (i) => Boolean(c.receptor[i]) && Math.abs(c.MAST_log2FC[i]) >= minFc && c.MAST_fdr[i] < fdrL,
  );
  const order = new Map(store.cell_types.map((name, i) => [name, i]));
  const cellTypes = rec.columns.cell_type;
  rec = rec.assign({ _order: ["float64", (i) => order.get(cellTypes[i]) ?? order.size] });
  rec = rec.sortBy(["_order", "cell_type"], [true, true]);
  const out = new Map();
  for (let i = 0; i < rec.length; i++) {
    const gene = rec.columns.target[i];
    if (!out.has(gene)) out.set(gene, []);
    out.get(gene).push([rec.columns.cell_type[i], Number(rec.columns.MAST_log2FC[i]), Number(rec.columns.MAST_fdr[i])]);
  }
  return out;
}

/** The downstream genes of a receptor node that pass the spec's rules (may be empty). */
export function downstream(store, condition, n, th) {
  if (!store.has_row(condition, n.cell_type, n.gene)) return null;
  let fx = store.ligand_effects(condition, n.cell_type, n.gene);
  fx = fx.assign({
    gene_expression: ["float64", fraction(Float64Array.from(fx.columns.gene_expression, Number))],
    gene_max_ligand_expression: [
      "float64",
      fraction(Float64Array.from(fx.columns.gene_max_ligand_expression, Number)),
    ],
  });
  const c = fx.columns;
  const fdrI = fx.asColumnType("i1.fdr", th.fdr_i);
  const minFc = fx.asColumnType("log2FC", th.min_log2fc);
  const fdrL = fx.asColumnType("fdr", th.fdr_l);
  return fx.where(
    (i) =>
      c["i1.fdr"][i] < fdrI &&
      Math.abs(c.log2FC[i]) >= minFc &&
      c.fdr[i] < fdrL &&
      c.gene_expression[i] > th.min_expression &&
      (Boolean(c.gene_is_ligand[i]) ||
        (Boolean(c.gene_is_receptor[i]) && c.gene_max_ligand_expression[i] > th.min_expression)),
  );
}

/** Run the propagation: {steps: Map key → [node, step], edges: [...], stopped}. */
export function propagate(store, condition, cellType, seeds, steps, th) {
  const graph = { steps: new Map(), edges: [], stopped: null };
  let frontier = seeds.map((g) => node(g, cellType));
  for (const n of frontier) if (!graph.steps.has(n.key)) graph.steps.set(n.key, [n, 0]);
  let rowsOfReceptors = null;
  const seenEdges = new Set();
  for (let step = 1; step <= steps; step++) {
    const fresh = [];
    const reach = (src, dst, edge) => {
      const key = `${src.key}\u0001${dst.key}`;
      if (seenEdges.has(key)) return;
      seenEdges.add(key);
      if (!graph.steps.has(dst.key)) {
        graph.steps.set(dst.key, [dst, step]);
        fresh.push(dst);
      }
      graph.edges.push({ source: src, target: dst, step, ...edge });
    };
    // The static site's store fetches a view's rows of ligand effects on demand: name this
    // step's rows at once, so that the ones not fetched yet cost one round trip for the step
    // (the store throws NotLoaded; the caller fetches them and runs the propagation again), not
    // one per row. Python's store holds every row; this line has no counterpart there.
    store.require_effects(
      condition,
      frontier.filter((n) => store.ligands_of(n.gene).length).map((n) => [n.cell_type, n.gene]),
    );
    for (const n of frontier) {
      const receptors = store.receptors_of(n.gene);
      if (receptors.length) {
        rowsOfReceptors ??= receptorRows(store, condition, th);
        for (const receptor of receptors) {
          for (const [ct, lfc, fdr] of rowsOfReceptors.get(receptor) ?? []) {
            const expr = fraction(store.expression(ct, receptor));
            if (!(expr > th.min_expression)) continue;
            reach(n, node(receptor, ct), {
              kind: "ligand→receptor",
              log2FC: lfc,
              fdr,
              "i1.fdr": Number.NaN,
              expression: expr,
            });
          }
        }
      }
      if (store.ligands_of(n.gene).length) {
        const rows = downstream(store, condition, n, th);
        if (rows) {
          const c = rows.columns;
          for (let i = 0; i < rows.length; i++) {
            reach(n, node(String(c.gene[i]), n.cell_type), {
              kind: "receptor→gene",
              log2FC: Number(c.log2FC[i]),
              fdr: Number(c.fdr[i]),
              "i1.fdr": Number(c["i1.fdr"][i]),
              expression: Number(c.gene_expression[i]),
            });
          }
        }
      }
    }
    if (!fresh.length) {
      if (step < steps) graph.stopped = `nothing new after step ${step - 1}`;
      break;
    }
    frontier = fresh;
    if (fresh.length > FRONTIER_CAP && step < steps) {
      graph.stopped = `stopped after step ${step}: ${fresh.length} new genes (more than ${FRONTIER_CAP})`;
      break;
    }
  }
  return graph;
}
