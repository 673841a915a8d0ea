"""The sparse ligand-effect rows against the dense ones, on random inputs (hypothesis).

The dense side is the full row of every gene read back from the input file (`export --all`), so
the comparison is against exactly what the store held before the sparse layout. For random
datasets and random slider values within range, the effects figure, its CSV and the exported
ligand-effects rows of the sparse store equal the dense ones.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctsite.compile.build import compile_store
from ctsite.compile.dataset import parse_data_spec
from ctsite.compile.export import full_ligand_effects
from ctsite.config import load_settings
from ctsite.figures import FIGURES, parse_params
from ctsite.figures.effects_bfs import downstream
from ctsite.store import Store
from tests.support.datasets import write_deg, write_expression, write_lr

SPEC = FIGURES["effects"]
CELL_TYPES = ["T", "M", "N"]
TOML = """
compiled_dir = "out"
[data]
interactions = "lr.tsv"
expression = "expr.h5ad"
[[data.conditions]]
name = "a"
file = "deg_a.h5ad"
"""


class DenseStore:
    """The same store, but every ligand-effects row is the full row from the input file."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def ligand_effects(self, condition: str, cell_type: str, target: str) -> pd.DataFrame:
        return full_ligand_effects(self._store, condition, cell_type, target)


def random_dataset(root: Path, rng: np.random.Generator) -> Store:
    """Ligands L0–L3, receptors R0–R3 (B is both), other genes G0–G3; values near the cut-offs."""
    ligands = [f"L{i}" for i in range(4)] + ["B"]
    receptors = [f"R{i}" for i in range(4)] + ["B"]
    pairs = sorted({(str(rng.choice(ligands)), str(rng.choice(receptors))) for _ in range(10)})
    pairs += [("L0", "R0"), ("B", "R1")]
    genes = ligands + receptors[:-1] + [f"G{i}" for i in range(4)]
    rng.shuffle(genes)
    lr_genes = sorted({g for p in pairs for g in p})
    rows = [(ct, t) for ct in CELL_TYPES for t in lr_genes]
    shape = (len(rows), len(genes))

    def layer(nan: float) -> np.ndarray:
        values = np.where(rng.random(shape) < 0.6, rng.uniform(0, 0.3, shape), rng.random(shape))
        values[rng.random(shape) < nan] = np.nan
        values[rng.random(shape) < 0.05] = 0.25  # exactly the largest threshold: never kept
        return values

    write_lr(root / "lr.tsv", sorted(set(pairs)))
    write_deg(
        root / "deg_a.h5ad", rows, genes, fdr=layer(0.05), i1=layer(0.05),
        log2fc=rng.normal(0, 0.4, shape), ligands=set(ligands), receptors=set(receptors),
        mast_lfc=list(rng.normal(0, 0.5, len(rows))), mast_fdr=list(rng.uniform(0, 0.2, len(rows))),
        comparison="A",
    )  # fmt: skip
    labels = [ct for ct in CELL_TYPES for _ in range(6)]
    counts = (rng.random((len(labels), len(genes))) < 0.5).astype(float)
    write_expression(root / "expr.h5ad", labels, genes, counts)
    (root / "ctsite.toml").write_text(TOML)
    s = load_settings(root=root, environ={})
    compile_store(parse_data_spec(s.data, s.root), s.compiled_path, jobs=1, force=True)
    return Store.open(s.compiled_path)


@pytest.fixture(scope="module")
def stores(tmp_path_factory) -> list[Store]:
    out = []
    for seed in range(3):
        root = tmp_path_factory.mktemp(f"sparse{seed}")
        out.append(random_dataset(root, np.random.default_rng(seed)))
    return out


def as_csv(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False)


def test_stored_rows_are_exactly_the_drawable_genes(stores):
    for store in stores:
        dense = DenseStore(store)
        for ct, target in store.circos_table("a", 0.25)[["cell_type", "target"]].itertuples(
            index=False
        ):
            full = dense.ligand_effects("a", ct, target)
            keep = (
                (full["gene_is_ligand"] | full["gene_is_receptor"])
                & (full["i1.fdr"] < 0.25)
                & (full["fdr"] < 0.25)
            )
            expected = full[keep].reset_index(drop=True)
            pd.testing.assert_frame_equal(store.ligand_effects("a", ct, target), expected)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    which=st.integers(0, 2),
    cell_type=st.sampled_from(CELL_TYPES),
    seeds=st.lists(st.sampled_from(["L0", "L1", "L2", "L3", "B", "R0"]), min_size=1, max_size=3),
    fdr_i=st.integers(1, 25),
    fdr_l=st.integers(1, 25),
    min_log2fc=st.floats(0, 1.0),
    min_expression=st.floats(0, 1.0),
    steps=st.integers(1, 5),
)
def test_every_figure_and_csv_equal(
    stores, which, cell_type, seeds, fdr_i, fdr_l, min_log2fc, min_expression, steps
):
    store = stores[which]
    query = {
        "condition": "a",
        "cell_type": cell_type,
        "seeds": ",".join(dict.fromkeys(seeds)),
        "fdr_i": f"{fdr_i / 100:.2f}",
        "fdr_l": f"{fdr_l / 100:.2f}",
        "min_log2fc": f"{min_log2fc:.3f}",
        "min_expression": f"{min_expression:.3f}",
        "steps": str(steps),
    }
    params = parse_params(SPEC, store, query)
    sparse = SPEC.build(store, params)
    dense = SPEC.build(DenseStore(store), params)  # type: ignore[arg-type]
    assert json.dumps(sparse.figure, sort_keys=True, default=str) == json.dumps(
        dense.figure, sort_keys=True, default=str
    )
    assert as_csv(sparse.table) == as_csv(dense.table)
    assert sparse.message == dense.message


@settings(max_examples=30, deadline=None)
@given(
    which=st.integers(0, 2),
    row=st.integers(0, 10_000),
    fdr_i=st.integers(1, 25),
    fdr_l=st.integers(1, 25),
    min_log2fc=st.floats(0, 1.0),
    min_expression=st.floats(0, 1.0),
)
def test_downstream_rows_equal(stores, which, row, fdr_i, fdr_l, min_log2fc, min_expression):
    """The filtered downstream genes of any receptor row, for any slider values in range."""
    from ctsite.figures.effects_bfs import Node, Thresholds

    store = stores[which]
    table = store.circos_table("a", 0.25)
    r = table.iloc[row % len(table)]
    th = Thresholds(fdr_i / 100, fdr_l / 100, min_log2fc, min_expression)
    node = Node(r["target"], r["cell_type"])
    got = downstream(store, "a", node, th).reset_index(drop=True)
    want = downstream(DenseStore(store), "a", node, th).reset_index(drop=True)  # type: ignore[arg-type]
    assert as_csv(got) == as_csv(want)
