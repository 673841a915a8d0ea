"""web-assets/engine/circos_shapes.js against ctsite/figures/circos_shapes.py: the path numbers
(5 decimals from rint(value · 10⁵), on rounding ties, negative values and −0 too). The paths
themselves (ring cells, chords, leaders) are compared in every Circos figure of
tests/engine/test_circos_draw.py."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from ctsite.figures import circos_shapes
from tests.support.engine_inputs import examples, finite_edge_floats
from tests.support.node_engine import compare, constant


def test_constants_are_pythons():
    assert constant("circos_shapes", "DIGITS") == circos_shapes.DIGITS


def test_path_numbers():
    edges = [
        0.0, -0.0, 1.0, 0.5, 0.123455, 0.123465, 0.000005, -0.000005, 0.015625, 1 / 3, 2 / 3,
        -0.25, 0.999995, 1.000005, 12.345675, -1e-9, 1e-9,
    ]  # fmt: skip
    values = st.lists(st.one_of(finite_edge_floats(-2.0, 2.0), st.sampled_from(edges)), max_size=8)
    inputs = [(v,) for v in examples(values, 250)] + [(edges,)]
    compare(
        "circos_shapes",
        "texts",
        lambda v: circos_shapes.texts(np.asarray(v, float)),
        inputs,
        js_args=lambda a: ({"$f64": list(a[0])},),
    )
    assert circos_shapes.texts(np.array([0.5, -0.25, 0.015625, -1e-9])) == [
        "0.50000", "-0.25000", "0.01562", "0.00000",
    ]  # fmt: skip
