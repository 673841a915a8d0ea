"""The Circos filters of SPEC-site.md (pure pandas): circos + pairwise tables → nodes and chords.

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
    "ligand",
    "cell_type_ligand",
    "receptor",
    "cell_type_receptor",
    "numSigI1",
    "numDEG",
    "MAST_log2FC_ligand",
    "MAST_fdr_ligand",
    "MAST_log2FC_receptor",
    "MAST_fdr_receptor",
    "expression_ligand",
    "expression_receptor",
]


@dataclass
class CircosData:
    """What the Circos figure shows: one row per node, one row per chord."""

    nodes: pd.DataFrame  # NODE_COLUMNS + has_chord, sorted by sector order then (dc1, DA_score)
    chords: pd.DataFrame  # CHORD_COLUMNS, strongest first


def _keys(cell_types: pd.Series, genes: pd.Series) -> pd.MultiIndex:
    return pd.MultiIndex.from_arrays([cell_types.to_numpy(), genes.to_numpy()])


def filter_circos(
    circos: pd.DataFrame,
    pairs: pd.DataFrame,
    cell_type_order: list[str],
    fdr_l: float,
    min_numsigi1: int,
    min_numdeg: int,
    min_log2fc: float,
) -> CircosData:
    """Apply the four Circos filter steps (exact comparisons: `<`, `>`, `≥` as in the spec)."""
    # 1. targets placed on the pseudotime axis
    ct = circos[circos["cell_type_dc1"].notna()]
    # 2. ring filters over every compared condition
    is_receptor = ct["receptor"].astype(bool)
    is_ligand = ct["ligand"].astype(bool)
    receptor_ok = is_receptor & (ct["numSigI1_all"] > 0)
    ligand_ok = is_ligand & (ct["MAST_fdr_all"] < fdr_l) & ct["MAST_same_sign"].astype(bool)
    receptor_keys = _keys(ct["cell_type"][receptor_ok], ct["target"][receptor_ok])
    ligand_keys = _keys(ct["cell_type"][ligand_ok], ct["target"][ligand_ok])
    # 3. pairs with both ends surviving
    pair_ok = _keys(pairs["cell_type_ligand"], pairs["ligand"]).isin(ligand_keys) & _keys(
        pairs["cell_type_receptor"], pairs["receptor"]
    ).isin(receptor_keys)
    kept_pairs = pairs[pair_ok]
    paired_ligands = _keys(kept_pairs["cell_type_ligand"], kept_pairs["ligand"])
    node_keys = _keys(ct["cell_type"], ct["target"])
    node_ok = receptor_ok.to_numpy() | (ligand_ok.to_numpy() & node_keys.isin(paired_ligands))
    nodes = ct[node_ok].rename(columns={"ligand": "is_ligand", "receptor": "is_receptor"})
    nodes = nodes.assign(
        is_ligand=nodes["is_ligand"].astype(bool), is_receptor=nodes["is_receptor"].astype(bool)
    )
    # 4. chord filters
    chord_ok = (
        (kept_pairs["numSigI1"] >= min_numsigi1)
        & (kept_pairs["numDEG"] >= min_numdeg)
        & (kept_pairs["MAST_fdr_ligand"] < fdr_l)
        & (kept_pairs["MAST_log2FC_ligand"].abs() > min_log2fc)
    )
    chords = kept_pairs[chord_ok]
    chords = chords[[c for c in CHORD_COLUMNS if c in chords.columns]]
    chords = chords.sort_values(
        ["numSigI1", "ligand", "cell_type_ligand", "receptor", "cell_type_receptor"],
        ascending=[False, True, True, True, True],
        kind="mergesort",
    ).reset_index(drop=True)
    # node order: sector order, then (cell_type_dc1, DA_score)
    rank = {name: i for i, name in enumerate(cell_type_order)}
    extra = sorted(set(nodes["cell_type"]) - set(rank))
    for name in extra:
        rank[name] = len(rank)
    nodes = nodes.assign(_sector=nodes["cell_type"].map(rank))
    nodes = nodes.sort_values(
        ["_sector", "cell_type_dc1", "DA_score", "target"], kind="mergesort", na_position="last"
    )
    chord_ends = set(zip(chords["cell_type_ligand"], chords["ligand"], strict=True)) | set(
        zip(chords["cell_type_receptor"], chords["receptor"], strict=True)
    )
    has_chord = np.fromiter(
        ((c, t) in chord_ends for c, t in zip(nodes["cell_type"], nodes["target"], strict=True)),
        dtype=bool,
        count=len(nodes),
    )
    nodes = nodes.assign(has_chord=has_chord)
    nodes = nodes[[*[c for c in NODE_COLUMNS if c in nodes.columns], "has_chord"]]
    return CircosData(nodes=nodes.reset_index(drop=True), chords=chords)
