"""web-assets/engine/fit.js against ctsite/figures/fit.py: contrast and ink colours, label
margins, name wrapping, and the colour bars moved below the plot (the layout changed in place,
compared as the whole data and layout afterwards)."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

from ctsite.figures import fit
from tests.support.engine_inputs import examples, texts
from tests.support.node_engine import compare, constant

N = 300
hex_colors = st.one_of(
    st.from_regex(r"\A#[0-9a-f]{6}\Z"),
    st.from_regex(r"\A#[0-9A-F]{3}\Z"),
    st.sampled_from(["#000000", "#ffffff", "#777777", "#767676", "fff", "#0000ff"]),
)


def test_constants_are_pythons():
    for name in ("INK_DARK", "INK_LIGHT", "SCALE_HEIGHT", "SCALE_GAP", "SCALE_STEP"):
        assert constant("fit", name) == getattr(fit, name), name
    assert constant("fit", "PHONE_FIGURE_WIDTH") == fit.PHONE_FIGURE_WIDTH


def test_colours():
    inputs = examples(st.tuples(hex_colors), N)
    compare("fit", "luminance", fit.luminance, inputs)
    compare("fit", "readableInk", fit.readable_ink, inputs)
    compare("fit", "inkOnWhite", fit.ink_on_white, inputs)
    pairs = examples(st.tuples(hex_colors, hex_colors), N)
    compare("fit", "contrast", fit.contrast, pairs)
    ratios = examples(st.tuples(hex_colors, st.floats(1.0, 22.0)), N)
    compare("fit", "inkOnWhite", fit.ink_on_white, ratios)
    odd = examples(
        st.tuples(st.one_of(st.text(max_size=7), st.from_regex(r"\A#?[0-9a-fA-F_x+ ]{0,7}\Z"))), N
    )
    compare("fit", "luminance", fit.luminance, odd)


def test_label_margin_and_wrapping():
    inputs = examples(
        st.tuples(
            st.lists(texts(), max_size=6),
            st.floats(4, 30),
            st.floats(0, 40),
            st.booleans(),
        ),
        N,
    )
    compare("fit", "labelMargin", fit.label_margin, inputs)
    # x.5 pixels round to even (12.5 → 12, 13.5 → 14), as Python's round does
    ties = [([], 10.0, float(m), False) for m in range(0, 9)] + [(["i"], 10.0, 1.0, False)]
    compare("fit", "labelMargin", fit.label_margin, ties)
    names = st.one_of(
        texts(),
        st.lists(st.sampled_from(["CD4+ T", "cells", "/", "-", " ", "B", "Monocyte-derived",
                                  "NK/T", "  ", "a"]), max_size=8).map("".join),
    )  # fmt: skip
    wraps = examples(st.tuples(names, st.floats(0, 200), st.floats(6, 16), st.booleans()), N)
    compare("fit", "wrapName", fit.wrap_name, wraps)


def _bars(n: int, showscale: list[Any]) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = []
    for i in range(n):
        marker: dict[str, Any] = {"showscale": showscale[i % len(showscale)]}
        if i % 3 != 2:
            marker["colorbar"] = {"title": {"text": f"bar {i}"}, "len": 0.5}
        data.append({"type": "scatter", "marker": marker} if i % 4 != 3 else {"type": "x"})
    return data


def _scales_below(
    data: list[dict[str, Any]], layout: dict[str, Any], legend: int, beside: float | None,
    orientation: str,
) -> list[Any]:  # fmt: skip
    data, layout = copy.deepcopy(data), copy.deepcopy(layout)
    fit.scales_below(data, layout, legend, beside, orientation)
    return [data, layout]


def test_bottom_margin_and_scales_below():
    margins = examples(
        st.tuples(st.integers(0, 400), st.booleans(), st.one_of(st.none(), st.floats(0, 1))), N
    )
    compare("fit", "bottomMargin", fit.bottom_margin, margins)
    cases = []
    drawn = examples(
        st.tuples(
            st.integers(0, 5),
            st.lists(st.sampled_from([True, False, None, 1]), min_size=1, max_size=3),
            st.integers(300, 2400),
            st.one_of(st.none(), st.integers(0, 200), st.floats(0, 200)),
            st.one_of(st.none(), st.integers(0, 80)),
            st.integers(0, 300),
            st.one_of(st.none(), st.floats(0, 1)),
            st.sampled_from(["h", "v"]),
        ),
        N,
    )
    for n, show, height, bottom, top, legend, beside, orientation in drawn:
        layout: dict[str, Any] = {"height": height}
        if bottom is not None or top is not None:
            layout["margin"] = {k: v for k, v in (("b", bottom), ("t", top)) if v is not None}
        cases.append((_bars(n, show), layout, legend, beside, orientation))
    compare(
        "fit",
        "scalesBelow",
        _scales_below,
        cases,
        returns_args=2,
    )
