"""Fixtures of the figure tests: the compiled demo store and a tiny hand-made store.

The tiny dataset is written in the real input format (h5ad + TSV) and compiled by
`ctsite.compile`, so the figure builders are tested through the real reader API. Its rows are
chosen to sit exactly on the filter boundaries of SPEC-site.md (see `TINY` below and the tests).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ctsite.store import Store
from tests.support.datasets import write_expression, write_lr, write_pq_config

CELL_TYPES = ("Alpha", "Beta")
OTHER = [f"G{i:02d}" for i in range(1, 13)]
LR = [("L1", "R1"), ("L2", "R1"), ("L3", "R1"), ("L1", "R2"), ("L4", "R2")]
GENES = ["L1", "L2", "L3", "L4", "R1", "R2", *OTHER]

# (cell type, target): dc1, DA, MAST log2FC, MAST fdr  (condition P; Q differs as noted)
ROWS = {
    ("Alpha", "L1"): (0.1, 0.2, 0.5, 0.01),
    ("Alpha", "L2"): (0.2, -0.1, 0.12, 0.01),  # |log2FC| == 0.12: no chord at min 0.12
    ("Alpha", "L3"): (0.3, 0.0, 0.3, 0.05),  # MAST_fdr == 0.05: fails "< t_l"
    ("Alpha", "R1"): (-0.2, 0.3, 0.3, 0.01),
    ("Beta", "L1"): (0.5, 0.1, -0.4, 0.001),  # sign flips in Q: gone from the combined view
    ("Beta", "L4"): (0.4, 0.2, 0.3, 0.01),  # its only partner (Beta R2) has no dc1
    ("Beta", "R1"): (-0.5, -0.3, 0.3, 0.01),
    ("Beta", "R2"): (np.nan, 0.0, 0.05, 0.5),
}
# downstream genes per receptor row: gene → (log2FC, fdr, i1.fdr)
EFFECTS = {
    ("Alpha", "R1"): {
        "L2": (0.3, 0.01, 0.01),
        "L3": (0.1, 0.01, 0.01),  # |log2FC| < 0.12
        "R2": (-0.2, 0.01, 0.01),
        "G01": (0.5, 0.01, 0.01),  # not a ligand/receptor
        **{g: (0.2, 0.01, 0.2) for g in ("G02", "G03", "G04", "G05", "G06", "G07")},
        **{g: (0.2, 0.01, 1.0) for g in ("G08", "G09")},  # DEG only
    },
    ("Beta", "R1"): {
        "L4": (0.4, 0.01, 0.01),
        **{g: (0.3, 0.01, 0.01) for g in OTHER[:8]},
    },
}
# fraction of the 10 cells of each type expressing each gene
EXPRESSION = {
    "Alpha": {"L1": 0.5, "L2": 0.4, "L3": 0.4, "L4": 0.0, "R1": 0.6, "R2": 0.2},
    "Beta": {"L1": 0.5, "L2": 0.0, "L3": 0.0, "L4": 0.3, "R1": 0.3, "R2": 0.2},
}
CELLS = 10


def _deg(condition: str) -> object:
    import anndata as ad

    keys = list(ROWS)
    n, g = len(keys), len(GENES)
    lfc = np.zeros((n, g), dtype=np.float32)
    fdr = np.ones((n, g), dtype=np.float32)
    i1 = np.ones((n, g), dtype=np.float32)
    for r, key in enumerate(keys):
        for gene, (a, b, c) in EFFECTS.get(key, {}).items():
            j = GENES.index(gene)
            lfc[r, j], fdr[r, j], i1[r, j] = a, b, c
    mast = np.array([ROWS[k][2] for k in keys], dtype=np.float64)
    if condition == "Q":
        mast[keys.index(("Beta", "L1"))] = 0.4
        i1[keys.index(("Beta", "R1"))] = 1.0
    ligands = {a for a, _ in LR}
    receptors = {b for _, b in LR}
    obs = pd.DataFrame(
        {
            "cell type": [k[0] for k in keys],
            "target": [k[1] for k in keys],
            "ligand": [k[1] in ligands for k in keys],
            "receptor": [k[1] in receptors for k in keys],
            "cell_type_dc1": [ROWS[k][0] for k in keys],
            "DA_score": [ROWS[k][1] for k in keys],
            "MAST_log2FC_x": mast,
            "MAST_fdr_x": [ROWS[k][3] for k in keys],
        },
        index=[f"{a}|{b}" for a, b in keys],
    )
    return ad.AnnData(
        obs=obs,
        var=pd.DataFrame(index=GENES),
        layers={"log2FC": lfc, "fdr": fdr, "fdr.i1": i1},
    )


def write_tiny(directory: Path) -> Path:
    """Write the tiny dataset and its ctsite.toml; returns the config path."""

    directory.mkdir(parents=True, exist_ok=True)
    write_lr(directory / "lr.tsv", LR)
    for cond in ("P", "Q"):
        _deg(cond).write_h5ad(directory / f"deg_{cond}.h5ad")
    labels, counts = [], []
    for ct in CELL_TYPES:
        for cell in range(CELLS):
            labels.append(ct)
            row = []
            for gene in GENES:
                frac = EXPRESSION[ct].get(gene, 0.5)
                row.append(2.0 if cell < round(frac * CELLS) else 0.0)
            counts.append(row)
    write_expression(directory / "expression.h5ad", labels, GENES, np.array(counts))
    return write_pq_config(directory, cell_type_order=["Beta", "Alpha"])


def compile_config(config: Path) -> Path:
    from ctsite.compile.build import compile_store
    from ctsite.compile.dataset import parse_data_spec
    from ctsite.config import load_settings

    settings = load_settings(config_file=config, environ={})
    spec = parse_data_spec(settings.data, settings.root)
    return compile_store(spec, settings.compiled_path, jobs=1).path


@pytest.fixture(scope="session")
def tiny_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    directory = tmp_path_factory.mktemp("tiny")
    return Store.open(compile_config(write_tiny(directory)))


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    from ctsite.compile.demo import ensure_demo_store

    return Store.open(ensure_demo_store(tmp_path_factory.mktemp("demo")))


def _load_reference():
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "support" / "reference.py"
    spec = importlib.util.spec_from_file_location("ctsite_tests_figures_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def reference():
    """The naive row-by-row implementations of the spec's filters (tests/support/reference.py)."""
    return _load_reference()
