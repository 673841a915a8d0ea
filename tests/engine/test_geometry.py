"""web-assets/engine/geometry.js against ctsite/figures/geometry.py: sectors, slot angles,
chord curves (one and many) and their Béziers, arcs cut into pieces, the histogram's outline
(skyline), label positions around the circle, columns, shortening, scaling."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
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
    assert constant("geometry", "ARC_STEP") == geometry.ARC_STEP


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


def _bars() -> st.SearchStrategy[tuple[float, list[tuple[float, float, float]]]]:
    """Bars in angle order: (gap before, width, height) each, widths from slivers to wide."""
    bar = st.tuples(
        st.sampled_from([0.0, 0.0, 0.0, 1e-7, 2.0, 37.5]),
        st.sampled_from([0.057, 1 / 3, 1.999, 2.0, 2.001, 7.3, 90.0]),
        st.sampled_from([0.0, 0.01, 0.05, 0.09]),
    )
    return st.tuples(st.sampled_from([0.0, 0.56, 0.41]), st.lists(bar, max_size=12))


def _lay_out(base: float, bars: list[tuple[float, float, float]]) -> tuple[np.ndarray, ...]:
    starts, ends, tops, at = [], [], [], 3.0
    for gap, width, height in bars:
        at += gap
        starts.append(at)
        ends.append(at + width)
        tops.append(base + height)
        at += width
    return np.array(starts), np.array(ends), np.array(tops)


def test_arcs_and_the_histogram_outline():
    inputs = [(base, *_lay_out(base, bars)) for base, bars in examples(_bars(), N)]
    f64 = lambda a: {"$f64": a.tolist()}  # noqa: E731
    compare(
        "geometry",
        "arcPieces",
        lambda _b, s, e, _t: geometry.arc_pieces(s, e),
        inputs,
        js_args=lambda a: (f64(a[1]), f64(a[2])),
    )
    compare(
        "geometry",
        "arcPoints",
        lambda _b, s, e, _t: geometry.arc_points(s, e, geometry.arc_pieces(s, e)),
        inputs,
        js_args=lambda a: (f64(a[1]), f64(a[2]), geometry.arc_pieces(a[1], a[2]).tolist()),
    )
    compare(
        "geometry",
        "skyline",
        geometry.skyline,
        inputs,
        js_args=lambda a: (a[0], f64(a[1]), f64(a[2]), f64(a[3])),
    )


def test_the_skyline_encloses_exactly_the_bars():
    """The outline's area (shoelace, in the polar plane) is the area of the bars as drawn (tops
    cut per bar, bases per block of touching bars): the pieces between blocks are retraced and
    enclose nothing, every block is enclosed once."""

    def fan(radius: float, start: float, end: float) -> float:
        """The area between the centre and an arc cut into ARC_STEP pieces."""
        n = int(geometry.arc_pieces(np.array([start]), np.array([end]))[0])
        return n * radius * radius * np.sin(np.radians((end - start) / n)) / 2

    for base, bars in examples(_bars(), 100):
        starts, ends, tops = _lay_out(base, bars)
        r, theta = geometry.skyline(base, starts, ends, tops)
        if not len(bars):
            assert len(r) == 0
            continue
        x, y = r * np.sin(np.radians(theta)), r * np.cos(np.radians(theta))
        area = abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2
        expected = sum(fan(t, s, e) for s, e, t in zip(starts, ends, tops, strict=True))
        first = [0, *[k for k in range(1, len(starts)) if abs(starts[k] - ends[k - 1]) > 1e-6]]
        for lo, hi in itertools.pairwise([*first, len(starts)]):
            expected -= fan(base, starts[lo], ends[hi - 1])
        assert area == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_chord_beziers():
    many = examples(
        st.tuples(st.lists(st.tuples(angles, angles), max_size=6), st.floats(0.1, 2.0),
                  st.floats(0.0, 0.5)),
        N,
    )  # fmt: skip
    compare(
        "geometry",
        "chordBeziers",
        lambda pairs, r, pull: geometry.chord_beziers(
            np.array([a for a, _ in pairs], float).reshape(-1),
            np.array([b for _, b in pairs], float).reshape(-1),
            r, pull,
        ),
        many,
        js_args=lambda a: ([p for p, _ in a[0]], [q for _, q in a[0]], *a[1:]),
        result=lambda parts: [part.tolist() for part in parts],
    )  # fmt: skip


def test_chord_points_are_a_column_of_the_curves():
    """The engine computes a chord's hover point alone (chordPoints): exactly that sample of
    `chord_curves`."""
    many = examples(
        st.tuples(st.lists(st.tuples(angles, angles), max_size=6), st.floats(0.1, 2.0),
                  st.integers(2, 12), st.floats(0.0, 0.5)),
        N,
    )  # fmt: skip
    compare(
        "geometry",
        "chordPoints",
        lambda pairs, r, n, pull: [
            part[:, max(1, n // 4)].tolist()
            for part in geometry.chord_curves(
                np.array([a for a, _ in pairs], float).reshape(-1),
                np.array([b for _, b in pairs], float).reshape(-1),
                r, n, pull,
            )
        ],
        many,
        js_args=lambda a: ([p for p, _ in a[0]], [q for _, q in a[0]], a[1], a[2],
                           max(1, a[2] // 4), a[3]),
    )  # fmt: skip
