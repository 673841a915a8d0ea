"""Builders of small, hand-made ContactTracing inputs for the compile and store tests
(fixtures registered in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp


def write_deg(
    path: Path,
    rows: list[tuple[str, str]],
    genes: list[str],
    *,
    fdr: np.ndarray,
    i1: np.ndarray,
    log2fc: np.ndarray | None = None,
    ligands: set[str] = frozenset(),
    receptors: set[str] = frozenset(),
    mast_lfc: list[float] | None = None,
    mast_fdr: list[float] | None = None,
    comparison: str = "A_vs_B",
    dc1: list[float] | None = None,
    sparse_layers: bool = False,
    extra_obs: dict[str, Any] | None = None,
    drop_obs: tuple[str, ...] = (),
    layers_override: dict[str, np.ndarray] | None = None,
) -> Path:
    n = len(rows)
    obs = pd.DataFrame(
        {
            "cell type": [r[0] for r in rows],
            "target": [r[1] for r in rows],
            "ligand": [r[1] in ligands for r in rows],
            "receptor": [r[1] in receptors for r in rows],
            "cell_type_dc1": dc1 if dc1 is not None else np.linspace(-1, 1, n),
            "DA_score": np.linspace(-0.5, 0.5, n),
            f"MAST_log2FC_{comparison}": mast_lfc if mast_lfc is not None else [0.3] * n,
            f"MAST_fdr_{comparison}": mast_fdr if mast_fdr is not None else [0.01] * n,
            **(extra_obs or {}),
        },
        index=[f"r{i}" for i in range(n)],
    ).drop(columns=list(drop_obs))
    lfc = log2fc if log2fc is not None else np.full((n, len(genes)), 0.5)
    layers = {"log2FC": lfc, "fdr": fdr, "fdr.i1": i1, "pval": fdr / 2}
    if sparse_layers:
        layers = {k: sp.csr_matrix(v) for k, v in layers.items()}
    layers.update(layers_override or {})
    adata = ad.AnnData(obs=obs, var=pd.DataFrame(index=genes), layers=layers)
    adata.write_h5ad(path)
    return path


def write_expression(
    path: Path, labels: list[str], genes: list[str], counts: np.ndarray, in_x: bool = False
) -> Path:
    obs = pd.DataFrame({"Cell Type": labels}, index=[f"c{i}" for i in range(len(labels))])
    matrix = sp.csr_matrix(counts.astype(np.float32))
    if in_x:
        adata = ad.AnnData(X=matrix, obs=obs, var=pd.DataFrame(index=genes))
    else:
        adata = ad.AnnData(obs=obs, var=pd.DataFrame(index=genes), layers={"X": matrix})
    adata.write_h5ad(path)
    return path


def write_lr(path: Path, pairs: list[tuple[str, str]], header: bool = True) -> Path:
    text = ("ligand\treceptor\n" if header else "") + "".join(f"{a}\t{b}\n" for a, b in pairs)
    path.write_text(text, encoding="utf-8")
    return path


def write_pq_config(directory: Path, cell_type_order: list[str] | None = None) -> Path:
    """The ctsite.toml of the two-condition layout the figure and engine tests compile: `lr.tsv`,
    `expression.h5ad`, conditions P (labelled "P-dependent") and Q from `deg_P.h5ad` and
    `deg_Q.h5ad`, and their combination "P AND Q"; the store in `compiled/`. Returns its path."""
    order = "" if cell_type_order is None else f"cell_type_order = {cell_type_order!r}\n"
    config = directory / "ctsite.toml"
    config.write_text(
        'compiled_dir = "compiled"\n[data]\ninteractions = "lr.tsv"\n'
        f'expression = "expression.h5ad"\n{order}'
        '[[data.conditions]]\nname = "P"\nfile = "deg_P.h5ad"\nlabel = "P-dependent"\n'
        '[[data.conditions]]\nname = "Q"\nfile = "deg_Q.h5ad"\n'
        '[[data.combined]]\nname = "P AND Q"\nof = ["P", "Q"]\n',
        encoding="utf-8",
    )
    return config


SMALL_TOML = """
compiled_dir = "out"
[data]
interactions = "lr.tsv"
expression = "expr.h5ad"
[[data.conditions]]
name = "a"
file = "deg_a.h5ad"
[[data.conditions]]
name = "b"
file = "deg_b.h5ad"
[[data.combined]]
of = ["a", "b"]
"""
"""The ctsite.toml of `small_dataset` (its store is `out/`)."""


def build_small_dataset(root: Path, **overrides: Any) -> Path:
    """Write the hand-built dataset of `small_dataset` into `root`; returns `root`."""
    root.mkdir(parents=True, exist_ok=True)
    pairs = [("L1", "R1"), ("L2", "R2"), ("B", "R1"), ("L2", "B")]
    write_lr(root / "lr.tsv", pairs)
    genes = ["g0", "g1", "L1", "R1", "B", "g5"]
    rows = [("T", "L1"), ("T", "R1"), ("T", "B"), ("M", "R1"), ("M", "L2"), ("M", "B")]
    i1 = np.array(
        [
            [0.001, 0.009, 0.01, 0.011, 0.2, 0.5],  # T/L1 (ligand only): reported 0
            [0.001, 0.049, 0.05, 0.051, np.nan, 0.25],  # T/R1
            [0.3, 0.3, 0.3, 0.3, 0.3, 0.3],  # T/B: none
            [0.02, 0.02, 0.24, 0.249, 0.9, 0.0],  # M/R1
            [0.001, 0.001, 0.001, 0.001, 0.001, 0.001],  # M/L2
            [0.1, 0.2, 0.3, 0.05, 0.05, 0.05],  # M/B
        ]
    )
    fdr = np.array(
        [
            [0.01, 0.02, 0.03, 0.04, 0.05, 0.06],
            [0.5, 0.5, 0.5, 0.5, 0.5, 0.01],
            [0.009, 0.011, 0.3, 0.3, 0.3, 0.3],
            [np.nan, 0.2, 0.2, 0.2, 0.2, 0.2],
            [0.25, 0.25, 0.25, 0.25, 0.25, 0.25],
            [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        ]
    )
    ligands = {"L1", "L2", "B"}
    receptors = {"R1", "R2", "B"}
    write_deg(
        root / "deg_a.h5ad", rows, genes, fdr=fdr, i1=i1, ligands=ligands,
        receptors=receptors, mast_lfc=[0.5, 0.2, -0.3, 0.1, 0.4, 0.2],
        mast_fdr=[0.01, 0.02, 0.03, 0.2, 0.001, 0.04], comparison="A",
        **overrides.get("deg_a", {}),
    )  # fmt: skip
    # Condition b: same rows; some counts zero, one sign flips.
    i1_b = i1.copy()
    i1_b[1] = 0.9  # T/R1 has no significant genes in b → combined 0
    i1_b[3] = 0.001  # M/R1: 6 genes at every threshold
    write_deg(
        root / "deg_b.h5ad", rows, genes, fdr=fdr, i1=i1_b, ligands=ligands,
        receptors=receptors, mast_lfc=[0.6, 0.1, 0.35, 0.3, 0.2, -0.1],
        mast_fdr=[0.02, 0.01, 0.001, 0.05, 0.03, 0.04], comparison="A",
        **overrides.get("deg_b", {}),
    )  # fmt: skip
    labels = ["T"] * 4 + ["M"] * 5
    counts = np.zeros((9, len(genes)))
    counts[0:3, 2] = 1  # L1 in 3 of 4 T cells
    counts[4:9, 3] = 2  # R1 in all M cells
    counts[0, 3] = 5  # R1 in 1 of 4 T cells
    counts[5, 4] = 1  # B in 1 of 5 M cells
    write_expression(root / "expr.h5ad", labels, genes, counts)
    toml = overrides.get("toml", SMALL_TOML)
    if "site" in overrides:
        toml += f"\n[site]\n{overrides['site'].strip()}\n"
    (root / "ctsite.toml").write_text(toml)
    return root


@pytest.fixture
def small_dataset(tmp_path: Path) -> Callable[..., Path]:
    """A hand-built dataset with known answers; returns the project folder (with ctsite.toml).

    Cell types T (tumour) and M (macrophage); LR pairs L1→R1, L2→R2, B→R1 (B is both ligand and
    receptor: it is listed as a receptor too via B←L2... see pairs below); genes g0..g5.
    `overrides`: deg_a / deg_b (keyword arguments of `write_deg`), toml (the ctsite.toml text),
    site (the lines of a `[site]` table added to that text).
    """

    def build(**overrides: Any) -> Path:
        return build_small_dataset(tmp_path / "project", **overrides)

    return build


@pytest.fixture
def deg_writer() -> Callable[..., Path]:
    return write_deg
