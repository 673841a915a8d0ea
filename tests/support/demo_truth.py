"""Expectations computed from the demo's input files alone (SPEC-data.md), never through ctsite's
compile, store or figure code: what a test of those compares against."""

from __future__ import annotations

from pathlib import Path

import anndata as ad
import numpy as np


def num_sig_i1(inputs: Path, condition: str, fdr: float) -> dict[tuple[str, str], int]:
    """(cell type, target) → numSigI1 as the Circos table reports it: the genes of that obs row
    whose interaction FDR (`layers['fdr.i1']`) is below `fdr`; 0 for a ligand that is not also a
    receptor. `inputs`: the folder holding `deg_<condition>.h5ad`."""
    deg = ad.read_h5ad(inputs / f"deg_{condition}.h5ad")
    counts = (np.asarray(deg.layers["fdr.i1"], dtype=np.float64) < fdr).sum(axis=1)
    ligand_only = (deg.obs["ligand"] & ~deg.obs["receptor"]).to_numpy()
    rows = zip(deg.obs["cell type"].astype(str), deg.obs["target"], strict=True)
    return dict(zip(rows, np.where(ligand_only, 0, counts).tolist(), strict=True))
