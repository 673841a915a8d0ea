"""The conformance suite on hypothesis-generated small stores: the engine against the Python
builders, on the inputs a hand-made store does not think of.

Each example is a small ContactTracing dataset in the real input format (the interactions list,
one DEG `.h5ad` per condition, the expression `.h5ad`; /work/shared/SPEC-data.md), compiled by
`ctsite.compile`, exported as `ctsite export-site` writes the data, and compared on a few views
of each figure exactly as tests/engine/test_figures.py compares them (every trace, layout key,
hover string and the CSV bytes). The generator leans on the edges: tied counts and log2FCs
(values drawn from a handful), NaN cells, names with spaces, slashes, unicode and HTML
characters, a single cell type, a condition where nothing is significant, and always a combined
condition. Examples are few (each compiles a store) and repeatable (tests/conftest.py).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctsite.figures import FIGURES
from ctsite.store import Store
from tests.figures.conftest import compile_config
from tests.support.datasets import write_expression, write_lr, write_pq_config
from tests.support.engine_data import write_engine_data
from tests.support.figure_conformance import cases_for, conform_failures, engine_answers

# Names a port mishandles: spaces, slashes, unicode, HTML and quote characters (no commas: the
# gene parameters are comma-separated lists).
CELL_TYPE_NAMES = ["Alpha", "T cells", "Macrophages/mMDSC", "Zellé β", "<b>&amp;", 'a "q" \'s']
GENE_NAMES = ["L1", "Ccl2", "Gene X", "H2-K1/D", "Lβ3", "<i>R</i>", "R&D", "aMb2_complex"]
OTHER_GENES = ["G1", "G 2", "G/3", "Gé4"]
LFC = [0.0, 0.05, 0.12, -0.12, 0.2, -0.5, 1.0]  # ties at the log2FC filter's values
FDR = [0.001, 0.01, 0.02, 0.05, 0.13, 0.25, 0.5, 1.0]  # ties at the thresholds
FRACTIONS = [0.0, 0.1, 0.3, 0.5, 1.0]  # of CELLS cells: the expression filter's values
CELLS = 10


@dataclass(frozen=True)
class Dataset:
    """A generated dataset: everything write_dataset needs, drawn by `datasets()`."""

    cell_types: list[str]
    pairs: list[tuple[str, str]]
    genes: list[str]
    rows: list[tuple[str, str]]  # (cell type, target) rows of the DEG files
    obs: dict[str, list[dict[str, float]]]  # condition → per row dc1, DA, MAST log2FC/fdr
    layers: dict[str, dict[str, np.ndarray]]  # condition → log2FC/fdr/fdr.i1 (rows × genes)
    expression: dict[str, dict[str, float]]  # cell type → gene → fraction expressing


def maybe_nan(values: list[float]) -> st.SearchStrategy[float]:
    return st.one_of(st.sampled_from(values), st.just(float("nan"))) if values else st.nothing()


def matrices(shape: tuple[int, int], values: list[float]) -> st.SearchStrategy[np.ndarray]:
    """A float32 layer whose cells are drawn from `values` or NaN (ties are the rule)."""
    n = shape[0] * shape[1]
    cells = st.lists(st.sampled_from([*values, float("nan")]), min_size=n, max_size=n)
    return cells.map(lambda c: np.array(c, dtype=np.float32).reshape(shape))


@st.composite
def datasets(draw: st.DrawFn) -> Dataset:
    cell_types = draw(
        st.lists(st.sampled_from(CELL_TYPE_NAMES), min_size=1, max_size=3, unique=True)
    )
    lr = draw(st.lists(st.sampled_from(GENE_NAMES), min_size=2, max_size=6, unique=True))
    pairs = draw(
        st.lists(
            st.tuples(st.sampled_from(lr), st.sampled_from(lr)), min_size=1, max_size=8, unique=True
        )
    )
    lr_genes = sorted({g for p in pairs for g in p})
    genes = lr_genes + draw(st.lists(st.sampled_from(OTHER_GENES), max_size=4, unique=True))
    every = [(ct, g) for ct in cell_types for g in lr_genes]
    rows = draw(st.lists(st.sampled_from(every), min_size=1, max_size=len(every), unique=True))
    nothing_significant = draw(st.sampled_from(["", "P", "Q"]))  # a condition with no interaction
    obs: dict[str, list[dict[str, float]]] = {}
    layers: dict[str, dict[str, np.ndarray]] = {}
    for condition in ("P", "Q"):
        obs[condition] = [
            {
                "dc1": draw(maybe_nan([-1.5, -1.0, -0.2, 0.0, 0.3, 1.0, 2.0])),
                "da": draw(maybe_nan([-0.3, 0.0, 0.1, 0.3])),
                "lfc": draw(st.sampled_from(LFC)),
                "fdr": draw(st.sampled_from(FDR)),
            }
            for _ in rows
        ]
        shape = (len(rows), len(genes))
        lfc = draw(matrices(shape, LFC))
        fdr = draw(matrices(shape, FDR))
        i1 = draw(matrices(shape, FDR))
        if condition == nothing_significant:
            fdr[:] = 1.0
            i1[:] = 1.0
        layers[condition] = {"log2FC": lfc, "fdr": fdr, "fdr.i1": i1}
    expression = {ct: {g: draw(st.sampled_from(FRACTIONS)) for g in genes} for ct in cell_types}
    return Dataset(cell_types, pairs, genes, rows, obs, layers, expression)


def write_dataset(data: Dataset, directory: Path) -> Path:
    """Write the dataset in ContactTracing's input format and its ctsite.toml; returns the
    config's path (the layout of tests/figures/conftest.py's write_tiny)."""
    import anndata as ad

    write_lr(directory / "lr.tsv", data.pairs)
    ligands = {a for a, _ in data.pairs}
    receptors = {b for _, b in data.pairs}
    for condition, rows in data.obs.items():
        frame = pd.DataFrame(
            {
                "cell type": [ct for ct, _ in data.rows],
                "target": [t for _, t in data.rows],
                "ligand": [t in ligands for _, t in data.rows],
                "receptor": [t in receptors for _, t in data.rows],
                "cell_type_dc1": [r["dc1"] for r in rows],
                "DA_score": [r["da"] for r in rows],
                "MAST_log2FC_x": [r["lfc"] for r in rows],
                "MAST_fdr_x": [r["fdr"] for r in rows],
            },
            index=[f"r{i}" for i in range(len(data.rows))],
        )
        ad.AnnData(
            obs=frame, var=pd.DataFrame(index=data.genes), layers=data.layers[condition]
        ).write_h5ad(directory / f"deg_{condition}.h5ad")
    labels, counts = [], []
    for ct in data.cell_types:
        for cell in range(CELLS):
            labels.append(ct)
            counts.append(
                [2.0 if cell < round(data.expression[ct][g] * CELLS) else 0.0 for g in data.genes]
            )
    write_expression(directory / "expression.h5ad", labels, data.genes, np.array(counts))
    return write_pq_config(directory)


def permissive(store: Store, figure: str) -> str:
    """The view that filters least (every minimum 0, the largest FDR threshold): a small store
    draws little under the defaults."""
    loosest = {"min_numsigi1": "0", "min_numdeg": "0", "min_expression": "0", "min_log2fc": "0"}
    loosest |= {"fdr_i": f"{store.thresholds[-1]:g}", "fdr_l": f"{store.thresholds[-1]:g}"}
    names = {c.name for c in FIGURES[figure].controls}
    return urlencode({k: v for k, v in loosest.items() if k in names})


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=datasets(), seed=st.integers(0, 2**16))
def test_the_engine_draws_what_the_server_draws_on_generated_stores(
    data: Dataset, seed: int
) -> None:
    with tempfile.TemporaryDirectory(prefix="ctsite-generated-") as temp:
        folder = Path(temp)
        store = Store.open(compile_config(write_dataset(data, folder)))
        index = write_engine_data(store, folder / "site")
        cases = [
            case
            for i, figure in enumerate(("circos", "pairwise", "effects"))
            for case in [
                (figure, permissive(store, figure)),
                *cases_for(store, figure, 6, seed + i),
            ]
        ]
        answers = engine_answers(index, cases)
        failures = conform_failures(store, answers, cases, chord_ties=True)
        assert not failures, f"{len(failures)} of {len(cases)} differ:\n" + "\n".join(failures[:6])
