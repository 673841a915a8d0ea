// Breadth-first propagation of ligand effects (SPEC-site.md, "Ligand effects"): the port of
// ctsite/figures/effects_bfs.py. Layer 0 holds the seed ligands in the chosen cell type; each
// step expands the previous layer (ligand → receptors in every cell type passing the receptor
// rules; receptor → downstream genes passing the interaction rules), stopping early when a step
// finds nothing new or its new layer exceeds FRONTIER_CAP.

import { fraction } from "./common.js";
import * as frame from "./frame.js";

export const FRONTIER_CAP = 45;

/** A node: a gene in a cell type; `key` identifies it (Python's frozen dataclass equality). */
export function node(gene, cellType) {
  return { gene, cell_type: cellType, key: `${cellType}\u0000${gene}` };
}

/** receptor gene → [[cell type, MAST log2FC, MAST fdr]] passing the receptor's MAST rules. */
function receptorRows(store, condition, fdr, th) {
  const t = store.circosTable(condition, fdr);
  const c = t.columns;
  const minFc = frame.asColumnType(c.MAST_log2FC, th.min_log2fc);
  const fdrL = frame.asColumnType(c.MAST_fdr, th.fdr_l);
  let rec = frame.filter(
    t,
    (i) => Boolean(c.receptor[i]) && Math.abs(c.MAST_log2FC[i]) >= minFc && c.MAST_fdr[i] < fdrL,
  );
  const order = new Map(store.cellTypes.map((name, i) => [name, i]));
  rec = frame.assign(rec, {
    _order: (i) => order.get(rec.columns.cell_type[i]) ?? order.size,
  });
  rec = frame.sortBy(rec, ["_order", "cell_type"], [true, true]);
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
  if (!store.hasRow(condition, n.cell_type, n.gene)) return null;
  let fx = store.ligandEffects(condition, n.cell_type, n.gene);
  fx = frame.assign(fx, {
    gene_expression: fraction(Float64Array.from(fx.columns.gene_expression, Number)),
    gene_max_ligand_expression: fraction(Float64Array.from(fx.columns.gene_max_ligand_expression, Number)),
  });
  const c = fx.columns;
  const fdrI = frame.asColumnType(c["i1.fdr"], th.fdr_i);
  const minFc = frame.asColumnType(c.log2FC, th.min_log2fc);
  const fdrL = frame.asColumnType(c.fdr, th.fdr_l);
  return frame.filter(
    fx,
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
export function propagate(store, condition, cellType, seeds, steps, th, fdrForTable) {
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
    for (const n of frontier) {
      const receptors = store.receptorsOf(n.gene);
      if (receptors.length) {
        rowsOfReceptors ??= receptorRows(store, condition, fdrForTable, th);
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
      if (store.ligandsOf(n.gene).length) {
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
