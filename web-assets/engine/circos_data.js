// The Circos filters of SPEC-site.md: circos table + LR list → nodes, chords. The port of
// ctsite/figures/circos_data.py (its comparisons run in float64, as the Python's `astype(float)`).
//
// 1. keep (cell type, target) rows with a `cell_type_dc1` value;
// 2. receptors with numSigI1 > 0 in every compared condition; ligands with MAST_fdr < t_l in every
//    compared condition and the same log2FC sign in all of them;
// 3. pairs whose two ends survived step 2; nodes = receptors of step 2 + ligands in such a pair;
// 4. chords = those pairs with numSigI1 ≥ min, numDEG ≥ min, MAST_fdr_ligand < t_l and
//    |MAST_log2FC_ligand| > min.

import { mapArray, mapFloat64 } from "./arrays.js";
import { PAIR_COLUMNS } from "./common.js";
import { Frame, compareValues } from "./frame.js";

export const NODE_COLUMNS = [
  "cell_type",
  "target",
  "is_ligand",
  "is_receptor",
  "cell_type_dc1",
  "DA_score",
  "numSigI1",
  "numDEG",
  "MAST_log2FC",
  "MAST_fdr",
];
export const CHORD_COLUMNS = [
  ...PAIR_COLUMNS,
  "MAST_log2FC_ligand",
  "MAST_fdr_ligand",
  "MAST_log2FC_receptor",
  "MAST_fdr_receptor",
];

// ligand gene → its receptor genes, in the list's order, each once; kept per LR list (a
// store's list never changes: rebuilding it took ~8 ms of a condition's or threshold's first view)
const RECEPTORS_OF = new WeakMap(); // LR ligand column → map

function receptorsOfLigands(lr) {
  let receptorsOf = RECEPTORS_OF.get(lr.columns.ligand);
  if (receptorsOf) return receptorsOf;
  const seen = new Set();
  receptorsOf = new Map();
  for (let i = 0; i < lr.length; i++) {
    const ligand = lr.columns.ligand[i];
    const receptor = lr.columns.receptor[i];
    const key = `${ligand}\u0000${receptor}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (!receptorsOf.has(ligand)) receptorsOf.set(ligand, []);
    receptorsOf.get(ligand).push(receptor);
  }
  RECEPTORS_OF.set(lr.columns.ligand, receptorsOf);
  return receptorsOf;
}

/** [ligand rows, receptor rows] for every listed pair between the given rows (pandas' inner
 * merges: ligand rows in order, then the list's pairs in order, then receptor rows in order). */
function join(targets, ligandRows, receptorRows, lr) {
  const receptorsOf = receptorsOfLigands(lr);
  const rowsOf = new Map(); // receptor gene → receptor rows, ascending
  for (const row of receptorRows) {
    const gene = targets[row];
    if (!rowsOf.has(gene)) rowsOf.set(gene, []);
    rowsOf.get(gene).push(row);
  }
  const lig = [];
  const rec = [];
  for (const row of ligandRows) {
    for (const receptor of receptorsOf.get(targets[row]) ?? []) {
      for (const r of rowsOf.get(receptor) ?? []) {
        lig.push(row);
        rec.push(r);
      }
    }
  }
  return [lig, rec];
}

const F = (v) => (v === null || v === undefined ? Number.NaN : Number(v));

// Steps 1–3 and the nodes (with their order) depend on the table, the LR list, the sector order
// and fdr_l only: they are kept per table, so that a change of the other thresholds or of the
// searched genes (most changes of a view) does not redo them. A table is known by its
// numSigI1_all column (the store builds it once per condition and threshold and never changes
// its columns); a table not seen before is computed afresh.
const SHARED = new WeakMap(); // numSigI1_all column → LR ligand column → key → parts

function sharedParts(circos, lr, cellTypeOrder, fdrL) {
  const byTable = SHARED.get(circos.columns.numSigI1_all) ?? new WeakMap();
  SHARED.set(circos.columns.numSigI1_all, byTable);
  const byLr = byTable.get(lr.columns.ligand) ?? new Map();
  byTable.set(lr.columns.ligand, byLr);
  const key = JSON.stringify([fdrL, cellTypeOrder]);
  if (!byLr.has(key)) byLr.set(key, nodesAndPairs(circos, lr, cellTypeOrder, fdrL));
  return byLr.get(key);
}

/** Steps 1–3: the listed pairs between surviving ends ([ligand rows, receptor rows]) and the
 * nodes in sector order; and the ligand log2FC as float64. */
function nodesAndPairs(circos, lr, cellTypeOrder, fdrL) {
  const c = circos.columns;
  const n = circos.length;
  const receptorOk = [];
  const ligandOk = [];
  for (let i = 0; i < n; i++) {
    const placed = !Number.isNaN(F(c.cell_type_dc1[i]));
    if (placed && Boolean(c.receptor[i]) && c.numSigI1_all[i] > 0) receptorOk.push(i);
    if (placed && Boolean(c.ligand[i]) && F(c.MAST_fdr_all[i]) < fdrL && Boolean(c.MAST_same_sign[i])) {
      ligandOk.push(i);
    }
  }
  const [ligRow, recRow] = join(c.target, ligandOk, receptorOk, lr);
  const paired = new Uint8Array(n);
  for (const row of ligRow) paired[row] = 1;
  const receptorSet = new Uint8Array(n);
  for (const row of receptorOk) receptorSet[row] = 1;
  const ligandSet = new Uint8Array(n);
  for (const row of ligandOk) ligandSet[row] = 1;
  const nodeRows = [];
  for (let i = 0; i < n; i++) if (receptorSet[i] || (ligandSet[i] && paired[i])) nodeRows.push(i);
  const lfc = mapFloat64(c.MAST_log2FC, (v) => F(v));
  const d = circos.dtypes;
  // node order: sector order, then (cell_type_dc1, DA_score, target), missing values last
  const rank = new Map(cellTypeOrder.map((name, i) => [name, i]));
  const extra = [...new Set(nodeRows.map((r) => c.cell_type[r]))].filter((x) => !rank.has(x));
  for (const name of extra.sort(compareValues)) rank.set(name, rank.size);
  // (only the columns the nodes keep: the table has others)
  const picked = circos
    .select(["cell_type", "target", "ligand", "receptor", ...NODE_COLUMNS.slice(4)])
    .take(nodeRows).columns;
  let nodes = Frame.of([
    ["cell_type", "object", picked.cell_type],
    ["target", "object", picked.target],
    ["is_ligand", "bool", mapArray(picked.ligand, (v) => Boolean(v))],
    ["is_receptor", "bool", mapArray(picked.receptor, (v) => Boolean(v))],
    ["cell_type_dc1", d.cell_type_dc1, picked.cell_type_dc1],
    ["DA_score", d.DA_score, picked.DA_score],
    ["numSigI1", d.numSigI1, picked.numSigI1],
    ["numDEG", d.numDEG, picked.numDEG],
    ["MAST_log2FC", d.MAST_log2FC, picked.MAST_log2FC],
    ["MAST_fdr", d.MAST_fdr, picked.MAST_fdr],
    ["row", "int64", nodeRows],
  ]);
  const sector = mapArray(nodes.columns.cell_type, (name) => rank.get(name));
  const nc = nodes.columns;
  // (the sort keys as float64 once, not converted in every comparison)
  const dc1 = mapFloat64(nc.cell_type_dc1, (v) => F(v));
  const da = mapFloat64(nc.DA_score, (v) => F(v));
  const naLast = (a, b) => {
    const na = Number.isNaN(a);
    const nb = Number.isNaN(b);
    if (na || nb) return na === nb ? 0 : na ? 1 : -1;
    return a - b;
  };
  const index = mapArray(nc.target, (_, i) => i).sort(
    (i, j) =>
      sector[i] - sector[j] ||
      naLast(dc1[i], dc1[j]) ||
      naLast(da[i], da[j]) ||
      compareValues(nc.target[i], nc.target[j]) ||
      i - j,
  );
  nodes = nodes.take(index);
  return { ligRow, recRow, lfc, nodes };
}

/** The four filter steps (exact comparisons: `<`, `>`, `≥` as in the spec) → {nodes, chords}. */
export function filterCircos(circos, lr, cellTypeOrder, fdrL, minNumsigi1, minNumdeg, minLog2fc) {
  const c = circos.columns;
  const shared = sharedParts(circos, lr, cellTypeOrder, fdrL);
  const { lfc, nodes } = shared;
  let { ligRow, recRow } = shared;
  // 4. chord filters
  const keep = [];
  for (let k = 0; k < ligRow.length; k++) {
    const l = ligRow[k];
    const r = recRow[k];
    if (
      c.numSigI1[r] >= minNumsigi1 &&
      c.numDEG[r] >= minNumdeg &&
      F(c.MAST_fdr[l]) < fdrL &&
      Math.abs(lfc[l]) > minLog2fc
    ) {
      keep.push(k);
    }
  }
  ligRow = keep.map((k) => ligRow[k]);
  recRow = keep.map((k) => recRow[k]);
  // strongest first: numSigI1, then |ligand log2FC| (one composite key; stable for ties)
  const strength = ligRow.map((l) => Math.abs(lfc[l]));
  const top = strength.reduce((m, v) => (v > m ? v : m), 0.0); // (no spread: may be 1e5 long)
  const key = recRow.map((r, k) => Number(c.numSigI1[r]) + strength[k] / (top + 1.0));
  const order = [...key.keys()].sort((a, b) => -key[a] - -key[b] || a - b);
  ligRow = order.map((k) => ligRow[k]);
  recRow = order.map((k) => recRow[k]);
  const at = (values, rows) => rows.map((row) => values[row]);
  const d = circos.dtypes;
  const chords = Frame.of([
    ["ligand", "object", at(c.target, ligRow)],
    ["cell_type_ligand", "object", at(c.cell_type, ligRow)],
    ["receptor", "object", at(c.target, recRow)],
    ["cell_type_receptor", "object", at(c.cell_type, recRow)],
    ["numSigI1", d.numSigI1, at(c.numSigI1, recRow)],
    ["numDEG", d.numDEG, at(c.numDEG, recRow)],
    ["MAST_log2FC_ligand", "float64", at(lfc, ligRow)],
    ["MAST_fdr_ligand", d.MAST_fdr, at(c.MAST_fdr, ligRow)],
    ["MAST_log2FC_receptor", "float64", at(lfc, recRow)],
    ["MAST_fdr_receptor", d.MAST_fdr, at(c.MAST_fdr, recRow)],
    ["lig_row", "int64", ligRow],
    ["rec_row", "int64", recRow],
  ]);
  return { nodes: markChordEnds(nodes, chords), chords };
}

/** `has_chord` on the nodes that are an end of one of `chords`. */
export function markChordEnds(nodes, chords) {
  const ends = new Set([...chords.columns.lig_row, ...chords.columns.rec_row]);
  const rows = nodes.columns.row;
  return nodes.assign({ has_chord: ["bool", (i) => ends.has(rows[i])] });
}
