"""web-assets/engine/common.js against ctsite/figures/common.py: the same results for the same
inputs (hypothesis-generated, biased towards rounding ties, `g` switch points, signed zero, NaN,
infinities, huge and tiny values, empty inputs, unicode and HTML-special text)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import strategies as st

from ctsite.figures import common
from tests.support.engine_inputs import edge_floats, examples, texts
from tests.support.node_engine import PyInt, compare, constant

N = 300


def _as_engine(value: Any) -> Any:
    """A Python int goes to the engine as a Python int (BigInt)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return PyInt(value)
    return value


def test_constants_are_pythons():
    for name in ("EMPTY_MESSAGE", "PAIR_COLUMNS", "FONT", "ROLE_LABEL"):
        assert constant("common", name) == getattr(common, name), name


def test_num():
    values = st.one_of(edge_floats(), st.integers(-(10**20), 10**20), st.booleans(), st.none())
    inputs = examples(st.tuples(values, st.integers(-4, 10)), N)
    inputs += [("1.5", 2), ("abc", 2), (" 2_0 ", 1), (float("nan"), 4), (-0.00001, 4)]
    compare("common", "num", common.num, inputs, js_args=lambda a: (_as_engine(a[0]), a[1]))


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_fraction_float64_and_float32():
    lists = st.lists(edge_floats(), max_size=12)
    inputs = examples(st.tuples(lists), N)
    compare(
        "common",
        "fraction",
        lambda xs: common.fraction(np.asarray(xs, dtype=float)),
        inputs,
    )
    small = st.lists(st.one_of(st.floats(0, 1, width=32), st.sampled_from([0.3, 0.1234565])))
    inputs32 = [(np.asarray(xs, dtype=np.float32),) for (xs,) in examples(st.tuples(small), N)]
    compare("common", "fraction", common.fraction, inputs32)
    compare("common", "fraction", common.fraction, [(x,) for x in (0.3, 0.1234565, 2.5e-7)])


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_nums():
    values = st.lists(st.one_of(edge_floats(), st.none()), max_size=10)
    inputs = [*examples(st.tuples(values, st.integers(-3, 8)), N), ([], 4), ([1e305], 4)]
    compare("common", "nums", common.nums, inputs)


def test_fmt():
    values = st.one_of(
        edge_floats(),
        st.integers(-(10**30), 10**30),
        st.booleans(),
        st.none(),
        texts(),
        st.sampled_from(["1.5", " 2 ", "nan", "-inf", "1_000", "١٢", "1e400"]),
    )
    inputs = examples(st.tuples(values, st.integers(0, 8)), N * 2)
    # at 10 ** -digits itself (JavaScript's 10 ** -4 is not the double nearest 1e-4)
    inputs += [(s * 10.0**-d, d) for d in range(0, 9) for s in (1.0, -1.0)]
    inputs += [(math.nextafter(10.0**-d, t), d) for d in range(0, 9) for t in (0.0, 1.0)]
    compare("common", "fmt", common.fmt, inputs, js_args=lambda a: (_as_engine(a[0]), a[1]))


def test_esc():
    values = st.one_of(texts(), edge_floats(), st.integers(), st.booleans(), st.none())
    inputs = examples(st.tuples(values), N)
    compare("common", "esc", common.esc, inputs, js_args=lambda a: (_as_engine(a[0]),))


def test_fmt_many():
    inputs = examples(st.tuples(st.lists(st.one_of(edge_floats(), st.none()), max_size=10)), N)
    compare("common", "fmtMany", common.fmt_many, inputs)


def test_role_and_partners_text():
    compare(
        "common",
        "role",
        common.role,
        [(a, b) for a in (True, False) for b in (True, False)],
    )
    names = st.lists(texts(), max_size=12)
    inputs = examples(st.tuples(names, st.integers(-3, 12)), N)
    compare("common", "partnersText", common.partners_text, inputs)


def test_layout_helpers_and_empty_figure():
    compare("common", "baseLayout", common.base_layout, [(760,), (420,), (0,)])
    compare("common", "hiddenAxis", common.hidden_axis, [()])
    inputs = [*examples(st.tuples(texts()), 50), (common.EMPTY_MESSAGE,)]
    compare("common", "emptyFigure", common.empty_figure, inputs)


def test_legend_entries():
    words = st.text(max_size=8)
    inputs = examples(st.tuples(words, words, words, words, words), N)
    compare("common", "legendMarker", common.legend_marker, inputs)
    inputs = examples(st.tuples(words, edge_floats(), words, words), N)
    compare("common", "legendLine", common.legend_line, inputs)


def _arrow(x0, y0, x1, y1, color, width, head, meta, dash, opacity, marker_line):
    return common.arrow_trace(
        x0, y0, x1, y1, color, width, head, meta,
        dash=dash, opacity=opacity, marker_line=marker_line,
    )  # fmt: skip


def test_arrow_trace():
    xy = edge_floats()
    inputs = examples(
        st.tuples(
            xy, xy, xy, xy, st.sampled_from(["#123456", "red"]), edge_floats(), edge_floats(),
            st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2),
            st.sampled_from([None, "", "dot"]), st.sampled_from([None, 0.0, 0.5]),
            st.sampled_from([None, {}, {"width": 1, "color": "#fff"}]),
        ),
        N,
    )  # fmt: skip
    compare(
        "common",
        "arrowTrace",
        _arrow,
        inputs,
        js_args=lambda a: (*a[:8], {"dash": a[8], "opacity": a[9], "markerLine": a[10]}),
    )


def _midpoints(xs, ys, values, hover, scale, cmin, cmax, title, size, length, color, opacity):
    return common.edge_midpoints_trace(
        xs, ys, values, hover, colorscale=scale, cmin=cmin, cmax=cmax, title=title, size=size,
        length=length, line_color=color, opacity=opacity,
    )  # fmt: skip


def test_edge_midpoints_trace():
    floats = st.lists(st.one_of(edge_floats(), st.none()), max_size=4)
    inputs = examples(
        st.tuples(
            floats, floats, floats, st.lists(texts(), max_size=4),
            st.sampled_from([[[0.0, "#000"], [1.0, "#fff"]], "Viridis"]), edge_floats(),
            edge_floats(), texts(), edge_floats(), edge_floats(), st.just("#333"),
            st.sampled_from([None, 0.4]),
        ),
        N,
    )  # fmt: skip
    compare(
        "common",
        "edgeMidpointsTrace",
        _midpoints,
        inputs,
        js_args=lambda a: (
            *a[:4],
            {
                "colorscale": a[4],
                "cmin": a[5],
                "cmax": a[6],
                "title": a[7],
                "size": a[8],
                "length": a[9],
                "lineColor": a[10],
                "opacity": a[11],
            },
        ),
    )


CAPTURED = ("num", "nums", "fmt", "fmt_many", "esc", "fraction", "partners_text")
ENGINE_NAMES = {"fmt_many": "fmtMany", "partners_text": "partnersText"}


@pytest.mark.slow
def test_on_the_values_the_demo_figures_format(demo_store, monkeypatch):
    """Every call the three Python figure builders make to these helpers while drawing the demo
    store (default and loosened filters, searched genes, every size) gives the same result in
    the engine."""
    from ctsite.figures import FIGURES, circos_draw, effects, pairwise, parse_params

    calls: dict[str, list[tuple[Any, ...]]] = {name: [] for name in CAPTURED}
    for module in (circos_draw, pairwise, effects):
        for name in CAPTURED:
            if hasattr(module, name):
                real = getattr(common, name)

                def record(*args: Any, _name: str = name, _real: Any = real) -> Any:
                    if len(calls[_name]) < 3000:
                        calls[_name].append(args)
                    return _real(*args)

                monkeypatch.setattr(module, name, record)
    queries = [{}, {"min_numsigi1": "0", "fdr_i": "0.25", "fdr_l": "0.25", "min_log2fc": "0"}]
    for figure in ("circos", "pairwise", "effects"):
        spec = FIGURES[figure]
        for query in queries:
            for size in ("desktop", "phone"):
                spec.build(demo_store, parse_params(spec, demo_store, {**query, "size": size}))
    assert all(calls[n] for n in ("num", "nums", "fmt", "fmt_many", "esc"))
    for name, inputs in calls.items():
        compare(
            "common",
            ENGINE_NAMES.get(name, name),
            getattr(common, name),
            inputs,
            js_args=(lambda a: (_as_engine(a[0]), *a[1:])) if name in ("fmt", "esc") else None,
        )
