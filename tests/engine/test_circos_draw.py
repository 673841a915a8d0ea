"""web-assets/engine/circos_draw.js against ctsite/figures/circos_draw.py: the whole Circos
figure (every trace, layout key and hover text) for the same CircosData, on the demo store's
filtered data over many filter settings, every width class and searched genes (none, one,
several, one with no chord, one not in the view), with no chords, with the chords limited
(`limit_chords`), and on altered copies (NaN heatmap values, float32 and BigInt columns, HTML
in names, a palette missing a cell type).

The Python CircosData tables go to the engine as frame.js column tables: float columns as
Float64Array/Float32Array, integer columns as numbers or BigInts (as Arrow reads int64), bools,
strings."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest.mock import patch

import numpy as np
import pandas as pd
import pytest
from hypothesis import strategies as st

from ctsite.figures import circos_draw, circos_labels, geometry
from ctsite.figures.circos import MAX_CHORDS, _defaults, circos_data, limit_chords
from ctsite.figures.circos_data import CircosData
from ctsite.store import Store
from tests.support.canonical import differences, plain
from tests.support.chord_ties import Ties, forgive_ties, ties_of
from tests.support.engine_inputs import examples
from tests.support.node_engine import Call, New, PyInt, compare, constant, run_calls

CLASSES = list(circos_labels.WIDTH_CLASSES.values())


@dataclass(frozen=True)
class Case:
    label: str
    data: CircosData
    palette: dict[str, str]
    genes: frozenset[str]
    width_class: circos_labels.WidthClass
    bigint: bool = False  # integer columns as BigInts (else as numbers)


def column(values: pd.Series, *, bigint: bool) -> Any:
    """One pandas column as the engine's column (typed arrays keep numpy's float dtypes)."""
    arr = values.to_numpy()
    if arr.dtype == np.float64:
        return {"$f64": [float(v) for v in arr.tolist()]}
    if arr.dtype == np.float32:
        return arr  # node_engine sends a float32 array as a Float32Array
    if arr.dtype.kind in "iu":
        return [PyInt(int(v)) if bigint else int(v) for v in arr.tolist()]
    if arr.dtype == bool:
        return [bool(v) for v in arr.tolist()]
    return [None if v is None else str(v) for v in arr.tolist()]


def table(frame: pd.DataFrame, *, bigint: bool) -> dict[str, Any]:
    return {
        "columns": {name: column(frame[name], bigint=bigint) for name in frame.columns},
        "length": len(frame),
    }


def engine_args(case: Case) -> tuple[Any, ...]:
    data = {
        "nodes": table(case.data.nodes, bigint=case.bigint),
        "chords": table(case.data.chords, bigint=case.bigint),
    }
    return (
        data,
        case.palette,
        sorted(case.genes),
        New("circos_labels.WidthClass", (plain(case.width_class),)),
    )


def python_figure(case: Case) -> tuple[Any, Ties]:
    """Python's figure as a page receives it (NaN as null), and the ties of its chord curves."""
    raw: list[tuple[np.ndarray, np.ndarray]] = []
    chord_curves = geometry.chord_curves

    def recorded(*args: Any, **kwargs: Any) -> tuple[np.ndarray, np.ndarray]:
        out = chord_curves(*args, **kwargs)
        raw.append(out)
        return out

    with patch.object(geometry, "chord_curves", recorded):
        figure = circos_draw.circos_figure(
            case.data, case.palette, set(case.genes), case.width_class
        )
    text = json.dumps(plain(figure), allow_nan=True).replace("NaN", "null")
    ties = ties_of(*raw[0]) if raw else Ties({2: set(), 3: set()})
    return json.loads(text), ties


def check(cases: list[Case]) -> int:
    """Every case's figure equal between Python and the engine (or both refusing)."""
    outcomes = run_calls([Call("circos_draw", "circosFigure", engine_args(c)) for c in cases])
    failures: list[str] = []
    flips = 0
    for case, outcome in zip(cases, outcomes, strict=True):
        try:
            (expected, ties), raised = python_figure(case), None
        except Exception as exc:  # the engine must refuse the same data
            expected, ties, raised = None, None, f"{type(exc).__name__}: {exc}"
        if raised is not None or outcome.error is not None:
            if (raised is None) != (outcome.error is None):
                failures.append(
                    f"{case.label}: python {raised or 'a figure'}, engine "
                    f"{outcome.error or 'a figure'}"
                )
            continue
        assert ties is not None
        forgive_ties(expected, outcome.value, ties)
        flips += ties.flips
        found = differences(expected, outcome.value)
        if found:
            failures.append(f"{case.label}:\n    " + "\n    ".join(found[:6]))
    assert not failures, (
        f"{len(failures)} of {len(cases)} Circos figures differ between Python and the "
        "engine:\n" + "\n".join(failures[:8])
    )
    print(f"{len(cases)} figures equal ({flips} chord coordinates on a rounding tie)")
    return len(cases)


# ---- the parameter sets ------------------------------------------------------------------

FILTERS: list[dict[str, Any]] = [
    {},  # the defaults
    {"fdr_i": 0.05, "fdr_l": 0.05, "min_numsigi1": 5, "min_numdeg": 0, "min_log2fc": 0.05},
    {"fdr_i": 0.25, "fdr_l": 0.25, "min_numsigi1": 0, "min_numdeg": 0, "min_log2fc": 0.0},
    {"fdr_i": 0.1, "fdr_l": 0.01, "min_numsigi1": 20, "min_numdeg": 10, "min_log2fc": 0.3},
    {"fdr_i": 0.15, "fdr_l": 0.1, "min_numsigi1": 1, "min_numdeg": 3, "min_log2fc": 0.2},
    {"min_numsigi1": 10**6},  # nodes, no chords
]


def demo_data(store: Store) -> Iterator[tuple[str, CircosData]]:
    for condition in store.conditions:
        for k, filters in enumerate(FILTERS):
            params = {**_defaults(store), "condition": condition.name, **filters}
            yield f"{condition.id}/filters{k}", circos_data(store, params)


def gene_choices(data: CircosData) -> list[frozenset[str]]:
    """No genes; the strongest chord's ligand; several (with a node without a chord and a gene
    not in the view); a node without a chord alone."""
    nodes, chords = data.nodes, data.chords
    lonely = nodes.loc[~nodes["has_chord"], "target"].tolist()
    out: list[frozenset[str]] = [frozenset()]
    if len(chords):
        out.append(frozenset({chords["ligand"].iloc[0]}))
        several = {*chords["receptor"].iloc[:3], chords["ligand"].iloc[-1], "NOT_A_GENE"}
        out.append(frozenset(several | set(lonely[:1])))
    if lonely:
        out.append(frozenset(lonely[:1]))
    return out


def demo_cases(store: Store) -> list[Case]:
    palette = dict(store.cell_type_colors)
    cases: list[Case] = []
    for i, (label, data) in enumerate(demo_data(store)):
        for j, genes in enumerate(gene_choices(data)):
            cls = CLASSES[(i + j) % len(CLASSES)]
            limited = limit_chords(data, set(genes))
            cases.append(
                Case(
                    f"{label} genes={sorted(genes)} {cls.name}",
                    limited,
                    palette,
                    genes,
                    cls,
                    bigint=bool((i + j) % 2),
                )
            )
    return cases


def test_constants_are_pythons():
    for name in (
        "CHORD_WIDTH",
        "RING_BINS",
        "COLOR_BINS",
        "WIDTH_BINS",
        "DIM_ALPHA",
        "DIMMED",
        "CHORD_POINTS",
        "PARTNERS_SHOWN",
        "LEADER_COLOR",
    ):
        assert constant("circos_draw", name) == plain(getattr(circos_draw, name)), name


def test_merge_runs():
    """Runs of touching cells in one colour bin (gaps between sectors and bin −1 cut them)."""

    def cells(spec: list[tuple[float, int, bool]]) -> tuple[np.ndarray, ...]:
        thetas, widths, bins, at = [], [], [], 0.0
        for width, b, gap in spec:
            at += 2.0 if gap else 0.0
            thetas.append(at + width / 2)
            widths.append(width)
            bins.append(b)
            at += width
        return np.array(thetas), np.array(widths), np.array(bins, dtype=int)

    spec = st.lists(
        st.tuples(st.sampled_from([0.5, 0.1, 1 / 3, 2.0]), st.integers(-1, 3), st.booleans()),
        min_size=1,
        max_size=25,
    )
    inputs = [cells(s) for (s,) in examples(st.tuples(spec), 200)]
    compare(
        "circos_draw",
        "mergeRuns",
        circos_draw.merge_runs,
        inputs,
        js_args=lambda a: ({"$f64": a[0].tolist()}, {"$f64": a[1].tolist()}, a[2].tolist()),
    )


def test_figures_on_the_demo_store(demo_store):
    cases = demo_cases(demo_store)
    assert len(cases) >= 60
    assert any(len(c.data.chords) == 0 for c in cases)
    assert check(cases) == len(cases)


def test_every_width_class_and_gene_choice(demo_store):
    """The default view in every width class with every gene choice."""
    params = _defaults(demo_store)
    data = circos_data(demo_store, params)
    palette = dict(demo_store.cell_type_colors)
    cases = [
        Case(
            f"defaults genes={sorted(genes)} {cls.name}",
            limit_chords(data, set(genes)),
            palette,
            genes,
            cls,
            bigint=cls.name == "tablet",
        )
        for cls in CLASSES
        for genes in gene_choices(data)
    ]
    assert check(cases) == len(cases)


def test_limited_chords(demo_store):
    """`limit_chords` below the view's chord count: searched genes' chords first, the
    strongest next, has_chord re-marked on the nodes."""
    params = {**_defaults(demo_store), **FILTERS[2]}
    data = circos_data(demo_store, params)
    palette = dict(demo_store.cell_type_colors)
    assert len(data.chords) > 120
    cases = []
    for limit in (1, 7, 40, 120):
        for k, genes in enumerate(gene_choices(data)):
            cls = CLASSES[(limit + k) % len(CLASSES)]
            limited = limit_chords(data, set(genes), limit)
            assert len(limited.chords) == limit
            cases.append(
                Case(
                    f"limit {limit} genes={sorted(genes)} {cls.name}", limited, palette, genes, cls
                )
            )
    assert check(cases) == len(cases)


def _rename(data: CircosData, old: str, new: str) -> CircosData:
    nodes = data.nodes.assign(target=data.nodes["target"].replace({old: new}))
    chords = data.chords.assign(
        ligand=data.chords["ligand"].replace({old: new}),
        receptor=data.chords["receptor"].replace({old: new}),
    )
    return CircosData(nodes=nodes, chords=chords)


def altered_cases(store: Store) -> list[Case]:
    params = _defaults(store)
    data = limit_chords(circos_data(store, params), set())
    palette = dict(store.cell_type_colors)
    nodes, chords = data.nodes, data.chords
    cases: list[Case] = []
    # NaN and out-of-range heatmap values (no colour, end colours), NaN MAST values in hovers
    holes = nodes.copy()
    holes.loc[holes.index[::7], "DA_score"] = np.nan
    holes.loc[holes.index[3::11], "cell_type_dc1"] = 1.7
    holes.loc[holes.index[5::13], "DA_score"] = -3.0
    fdr_nan = chords.assign(MAST_fdr_ligand=chords["MAST_fdr_ligand"].where(chords.index % 5 > 0))
    cases.append(
        Case(
            "NaN and clipped ring values",
            CircosData(holes, fdr_nan),
            palette,
            frozenset(),
            CLASSES[0],
        )
    )
    # float32 MAST columns (the store's float32 reads), BigInt integer columns
    f32 = chords.astype(
        {c: np.float32 for c in ("MAST_log2FC_ligand", "MAST_fdr_ligand", "MAST_fdr_receptor")}
    )
    for cls in CLASSES:
        cases.append(
            Case(
                f"float32 chords {cls.name}",
                CircosData(nodes, f32),
                palette,
                frozenset(chords["ligand"].iloc[:2]),
                cls,
                bigint=True,
            )
        )
    # HTML-special names, a palette without one cell type (the grey default)
    if len(chords):
        gene = str(chords["receptor"].iloc[0])
        named = _rename(data, gene, f"{gene}<&>\"'")
        some = dict(palette)
        some.pop(next(iter(some)))
        for cls in CLASSES:
            cases.append(
                Case(f"html names {cls.name}", named, some, frozenset({f"{gene}<&>\"'"}), cls)
            )
    # one cell type only (no sector gaps); a single chord; nodes without any chord
    first = nodes["cell_type"].iloc[0]
    one = nodes[nodes["cell_type"] == first].reset_index(drop=True)
    inside = chords[
        (chords["cell_type_ligand"] == first) & (chords["cell_type_receptor"] == first)
    ].reset_index(drop=True)
    for cls in CLASSES:
        cases.append(
            Case(f"one sector {cls.name}", CircosData(one, inside), palette, frozenset(), cls)
        )
        single = limit_chords(data, set(), 1)
        cases.append(Case(f"one chord {cls.name}", single, palette, frozenset(), cls))
        bare = CircosData(nodes.assign(has_chord=False), chords.iloc[:0])
        cases.append(
            Case(
                f"no chords {cls.name}",
                bare,
                palette,
                frozenset({str(nodes["target"].iloc[0])}),
                cls,
            )
        )
    # chords in many width and colour bins at once: numSigI1 and log2FC spread out
    if len(chords):
        spread = chords.assign(
            numSigI1=(np.arange(len(chords)) % 9 + 1) * 7,
            MAST_log2FC_ligand=np.linspace(-0.3, 0.3, len(chords)),
        )
        for n_genes in (0, 2):
            genes = frozenset(spread["ligand"].iloc[:n_genes])
            cases.append(
                Case(
                    f"spread bins genes={sorted(genes)}",
                    CircosData(nodes, spread),
                    palette,
                    genes,
                    CLASSES[n_genes % 3],
                )
            )
    return cases


def test_altered_data(demo_store):
    assert check(altered_cases(demo_store)) >= 15


def test_no_nodes_is_refused_by_both(demo_store):
    data = circos_data(demo_store, _defaults(demo_store))
    empty = CircosData(data.nodes.iloc[:0], data.chords.iloc[:0])
    (outcome,) = run_calls(
        [
            Call(
                "circos_draw",
                "circosFigure",
                engine_args(Case("empty", empty, {}, frozenset(), CLASSES[0])),
            )
        ]
    )
    with pytest.raises(IndexError):  # the builders never draw it: build() shows a message
        circos_draw.circos_figure(empty, {}, set(), CLASSES[0])
    assert outcome.error is not None and "IndexError" in outcome.error


@pytest.fixture(scope="module")
def study_store(tmp_path_factory: pytest.TempPathFactory, real_interactions: Path) -> Store:
    """Study-scale data from bench_compile's generator (11 cell types, the real mouse
    ligand-receptor list; fewer cells and genes so that it compiles in seconds), compiled."""
    from benchmarks import bench_compile
    from ctsite.compile.build import compile_store
    from ctsite.compile.dataset import parse_data_spec
    from ctsite.config import load_settings

    folder = tmp_path_factory.mktemp("study")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(bench_compile, "SHARED_LR", real_interactions)
        config = bench_compile.generate(
            folder, n_types=11, n_targets=250, n_genes=800, n_cells=3000
        )
    settings = load_settings(config_file=config, environ={})
    spec = parse_data_spec(settings.data, settings.root)
    return Store.open(compile_store(spec, settings.compiled_path, jobs=1).path)


LOOSE = {"fdr_i": 0.25, "fdr_l": 0.25, "min_numsigi1": 0, "min_numdeg": 0, "min_log2fc": 0.0}


def test_study_scale_and_max_chords(study_store):
    """Study-scale circles (1,400+ targets in 11 sectors, crowded labels), and views with more
    chords than MAX_CHORDS, drawn as the page draws them (the strongest MAX_CHORDS, searched
    genes' first)."""
    palette = dict(study_store.cell_type_colors)
    cases: list[Case] = []
    for i, condition in enumerate(study_store.conditions):
        for k, filters in enumerate(({}, LOOSE)):
            params = {**_defaults(study_store), "condition": condition.name, **filters}
            data = circos_data(study_store, params)
            for j, genes in enumerate(gene_choices(data)[:3]):
                cls = CLASSES[(i + j + k) % len(CLASSES)]
                limited = limit_chords(data, set(genes))
                cases.append(
                    Case(
                        f"study {condition.id}/{k} genes={sorted(genes)} {cls.name}",
                        limited,
                        palette,
                        genes,
                        cls,
                        bigint=bool(j % 2),
                    )
                )
    assert any(len(c.data.chords) == MAX_CHORDS for c in cases)
    assert check(cases) == len(cases)
