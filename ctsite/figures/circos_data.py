"""The Circos filters of SPEC-site.md (pure numpy/pandas): circos table + LR list → nodes, chords.

Filters, in order:
1. keep (cell type, target) rows with a `cell_type_dc1` value;
2. receptors with numSigI1 > 0 in every compared condition; ligands with MAST_fdr < t_l in every
   compared condition and the same log2FC sign in all of them;
3. pairs whose two ends survived step 2; nodes = receptors of step 2 + ligands in such a pair;
4. chords = those pairs with numSigI1 ≥ min, numDEG ≥ min, MAST_fdr_ligand < t_l and
   |MAST_log2FC_ligand| > min.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ctsite.figures.common import PAIR_COLUMNS

NODE_COLUMNS = [
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
]
CHORD_COLUMNS = [
    *PAIR_COLUMNS,
    "MAST_log2FC_ligand",
    "MAST_fdr_ligand",
    "MAST_log2FC_receptor",
    "MAST_fdr_receptor",
]


@dataclass
class CircosData:
    """What the Circos figure shows: one row per node, one row per chord.

    Both carry integer row ids of the circos table (`row` on nodes, `lig_row`/`rec_row` on
    chords) so that ends are matched by integer look-ups, not by (cell type, gene) strings.
    """

    nodes: pd.DataFrame  # NODE_COLUMNS + row + has_chord; sector order, then (dc1, DA_score)
    chords: pd.DataFrame  # CHORD_COLUMNS + lig_row + rec_row, strongest first


def _join(
    targets: np.ndarray, ligand_rows: np.ndarray, receptor_rows: np.ndarray, lr: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """(ligand row, receptor row) for every listed pair between the given rows of a table.

    The same join as the store's pairwise table (ligand rows × LR list × receptor rows over
    every ordered pair of cell types), done on integer codes for the rows that survived step 2.
    """
    pairs = lr[["ligand", "receptor"]].drop_duplicates()
    codes, _ = pd.factorize(
        np.concatenate([targets, pairs["ligand"].to_numpy(), pairs["receptor"].to_numpy()])
    )
    n = len(targets)
    target_code = codes[:n]
    lig_code, rec_code = codes[n : n + len(pairs)], codes[n + len(pairs) :]
    lig = pd.DataFrame({"lig_row": ligand_rows, "lig_code": target_code[ligand_rows]})
    rec = pd.DataFrame({"rec_row": receptor_rows, "rec_code": target_code[receptor_rows]})
    listed = pd.DataFrame({"lig_code": lig_code, "rec_code": rec_code})
    joined = lig.merge(listed, on="lig_code").merge(rec, on="rec_code")
    return joined["lig_row"].to_numpy(), joined["rec_row"].to_numpy()


def filter_circos(
    circos: pd.DataFrame,
    lr: pd.DataFrame,
    cell_type_order: list[str],
    fdr_l: float,
    min_numsigi1: int,
    min_numdeg: int,
    min_log2fc: float,
) -> CircosData:
    """Apply the four Circos filter steps (exact comparisons: `<`, `>`, `≥` as in the spec)."""
    col = {c: circos[c].to_numpy() for c in circos.columns}
    # 1. targets placed on the pseudotime axis
    placed = ~np.isnan(col["cell_type_dc1"].astype(float))
    # 2. ring filters over every compared condition
    receptor_ok = placed & col["receptor"].astype(bool) & (col["numSigI1_all"] > 0)
    ligand_ok = (
        placed
        & col["ligand"].astype(bool)
        & (col["MAST_fdr_all"].astype(float) < fdr_l)
        & col["MAST_same_sign"].astype(bool)
    )
    # 3. pairs with both ends surviving; nodes = those receptors + ligands in such a pair
    lig_row, rec_row = _join(
        col["target"], np.flatnonzero(ligand_ok), np.flatnonzero(receptor_ok), lr
    )
    paired = np.zeros(len(circos), dtype=bool)
    paired[lig_row] = True
    node_rows = np.flatnonzero(receptor_ok | (ligand_ok & paired))
    # 4. chord filters
    lfc = col["MAST_log2FC"].astype(float)
    numsig = col["numSigI1"]
    ok = (
        (numsig[rec_row] >= min_numsigi1)
        & (col["numDEG"][rec_row] >= min_numdeg)
        & (col["MAST_fdr"].astype(float)[lig_row] < fdr_l)
        & (np.abs(lfc[lig_row]) > min_log2fc)
    )
    lig_row, rec_row = lig_row[ok], rec_row[ok]
    # strongest first: numSigI1, then |ligand log2FC| (one composite key; stable for ties)
    strength = np.abs(lfc[lig_row])
    key = numsig[rec_row] + strength / (float(strength.max(initial=0.0)) + 1.0)
    order = np.argsort(-key, kind="stable")
    lig_row, rec_row = lig_row[order], rec_row[order]
    chords = pd.DataFrame(
        {
            "ligand": col["target"][lig_row],
            "cell_type_ligand": col["cell_type"][lig_row],
            "receptor": col["target"][rec_row],
            "cell_type_receptor": col["cell_type"][rec_row],
            "numSigI1": numsig[rec_row],
            "numDEG": col["numDEG"][rec_row],
            "MAST_log2FC_ligand": lfc[lig_row],
            "MAST_fdr_ligand": col["MAST_fdr"][lig_row],
            "MAST_log2FC_receptor": lfc[rec_row],
            "MAST_fdr_receptor": col["MAST_fdr"][rec_row],
            "lig_row": lig_row,
            "rec_row": rec_row,
        }
    )
    # node order: sector order, then (cell_type_dc1, DA_score)
    nodes = circos.iloc[node_rows].assign(row=node_rows)
    nodes = nodes.rename(columns={"ligand": "is_ligand", "receptor": "is_receptor"}).astype(
        {"is_ligand": bool, "is_receptor": bool}
    )
    rank = {name: i for i, name in enumerate(cell_type_order)}
    for name in sorted(set(nodes["cell_type"]) - set(rank)):
        rank[name] = len(rank)
    nodes = nodes.assign(_sector=nodes["cell_type"].map(rank))
    nodes = nodes.sort_values(
        ["_sector", "cell_type_dc1", "DA_score", "target"], kind="mergesort", na_position="last"
    )
    nodes = nodes[[*NODE_COLUMNS, "row"]].reset_index(drop=True)
    return CircosData(nodes=mark_chord_ends(nodes, chords), chords=chords)


def mark_chord_ends(nodes: pd.DataFrame, chords: pd.DataFrame) -> pd.DataFrame:
    """Set `has_chord` on the nodes that are an end of one of `chords`."""
    ends = np.concatenate([chords["lig_row"].to_numpy(), chords["rec_row"].to_numpy()])
    return nodes.assign(has_chord=np.isin(nodes["row"].to_numpy(), ends))
