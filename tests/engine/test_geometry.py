"""web-assets/engine/geometry.js against ctsite/figures/geometry.py: sectors, slot angles,
chord curves (one and many), label positions around the circle, columns, shortening, scaling."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from ctsite.figures import geometry
from tests.support.engine_inputs import edge_floats, examples, finite_edge_floats
from tests.support.node_engine import New, compare, constant

N = 250
angles = st.one_of(
    finite_edge_floats(-720, 720), st.sampled_from([0.0, 90.0, 180.0, 270.0, 360.0, -0.0, 20.0])
)


def test_constants_are_pythons():
    assert constant("geometry", "SECTOR_GAP") == geometry.SECTOR_GAP


def test_sectors_and_slots():
    counts = st.lists(st.tuples(st.text(max_size=5), st.integers(-2, 60)), max_size=8)
    inputs = examples(st.tuples(counts, st.sampled_from([2.0, 0.0, 5.5])), N)
    compare("geometry", "sectors", geometry.sectors, inputs)
    compare(
        "geometry",
        "slotAngles",
        lambda counts, gap: geometry.slot_angles(geometry.sectors(counts, gap)),
        inputs,
        js_args=lambda a: ([New("geometry.Sector", (s.name, s.start, s.end, s.count))
                            for s in geometry.sectors(*a)],),
    )  # fmt: skip
    sector = geometry.Sector("A", 10.0, 50.0, 7)
    as_js = New("geometry.Sector", ("A", 10.0, 50.0, 7))
    compare(
        "geometry", "Sector.middle", lambda s: s.middle, [(sector,)], js_args=lambda a: (as_js,)
    )
    compare("geometry", "Sector.slot", lambda s: s.slot, [(sector,)], js_args=lambda a: (as_js,))
    compare(
        "geometry", "Sector#angle", lambda s, i: s.angle(i), [(sector, i) for i in range(-1, 9)],
        js_args=lambda a: (as_js, a[1]),
    )  # fmt: skip


def test_polar_conversions_and_curves():
    inputs = examples(st.tuples(finite_edge_floats(-10, 10), angles), N)
    compare("geometry", "toXy", geometry.to_xy, inputs)
    xy = examples(st.tuples(finite_edge_floats(-10, 10), finite_edge_floats(-10, 10)), N)
    compare("geometry", "toPolar", lambda x, y: geometry.to_polar(np.float64(x), np.float64(y)), xy)
    curves = examples(
        st.tuples(angles, angles, st.floats(0.1, 2.0), st.integers(1, 20), st.floats(0.0, 0.5)),
        N,
    )
    compare("geometry", "chordCurve", geometry.chord_curve, curves)
    many = examples(
        st.tuples(
            st.lists(st.tuples(angles, angles), max_size=6),
            st.floats(0.1, 2.0),
            st.integers(1, 12),
            st.floats(0.0, 0.5),
        ),
        N,
    )
    compare(
        "geometry",
        "chordCurves",
        lambda pairs, r, n, pull: geometry.chord_curves(
            np.array([a for a, _ in pairs], float).reshape(-1),
            np.array([b for _, b in pairs], float).reshape(-1),
            r, n, pull,
        ),
        many,
        js_args=lambda a: ([p for p, _ in a[0]], [q for _, q in a[0]], *a[1:]),
        result=lambda rt: [[row.tolist() for row in part] for part in rt],
    )  # fmt: skip
    compare("geometry", "linspace", lambda a, b, n: np.linspace(a, b, n), [(0.0, 1.0, n) for n in
            range(0, 40)], js_args=lambda a: a)  # fmt: skip


def test_positions_columns_shorten_scale():
    compare("geometry", "textPosition", geometry.text_position, examples(st.tuples(angles), N))
    compare(
        "geometry", "textPosition", geometry.text_position,
        [(v,) for v in (20.0, 340.0, 160.0, 200.0, 180.0, 19.999999999999996, -20.0, 1e-20)],
    )  # fmt: skip
    cols = examples(st.tuples(st.lists(st.integers(-1, 9), max_size=5), finite_edge_floats()), N)
    compare("geometry", "columnPositions", geometry.column_positions, cols)
    f = finite_edge_floats(-100, 100)
    segs = examples(st.tuples(f, f, f, f, st.floats(0, 10), st.floats(0, 10)), N)
    segs += [(0.0, 0.0, 0.0, 0.0, 0.0, 0.0), (0.0, 0.0, 3.0, 4.0, 2.5, 2.5)]
    compare("geometry", "shorten", geometry.shorten, segs)
    scales = examples(st.tuples(edge_floats(), f, f, f, f), N)
    compare("geometry", "scale", geometry.scale, scales)
