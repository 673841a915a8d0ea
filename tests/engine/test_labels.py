"""web-assets/engine/labels.js against ctsite/figures/labels.py: label boxes and the choice of
a label side that collides with nothing (crowded, touching and degenerate layouts)."""

from __future__ import annotations

from hypothesis import strategies as st

from ctsite.figures import labels
from tests.support.engine_inputs import examples, finite_edge_floats, texts
from tests.support.node_engine import New, compare, constant

N = 250
positions = st.sampled_from(labels.POSITIONS)


def test_constants_are_pythons():
    for name in ("CHAR_WIDTH", "LINE_HEIGHT", "GAP"):
        assert constant("labels", name) == getattr(labels, name), name
    assert constant("labels", "POSITIONS") == list(labels.POSITIONS)


def test_boxes():
    f = finite_edge_floats(-500, 500)
    sizes = examples(st.tuples(texts(), st.floats(1, 40)), N)
    compare("labels", "textSize", labels.text_size, sizes)
    markers = examples(st.tuples(f, f, st.floats(0, 40)), N)
    compare("labels", "markerBox", labels.marker_box, markers)
    boxes = examples(st.tuples(f, f, st.floats(0, 40), texts(), st.floats(4, 20), positions), N)
    compare("labels", "labelBox", labels.label_box, boxes)
    pairs = examples(st.tuples(*[st.integers(-5, 5)] * 8), N)
    compare(
        "labels",
        "Box#overlaps",
        lambda *v: labels.Box(*v[:4]).overlaps(labels.Box(*v[4:])),
        pairs,
        js_args=lambda v: (New("labels.Box", v[:4]), New("labels.Box", v[4:])),
    )


def _frame(x_range, y_range, width, height):
    return labels.Frame(tuple(x_range), tuple(y_range), width, height)


def _place(points, sizes, texts_, preferred, frame, font):
    return labels.place_labels(points, sizes, texts_, preferred, _frame(*frame), font)


def test_place_labels():
    layouts = []
    drawn = examples(
        st.tuples(
            st.integers(0, 14),
            st.lists(st.tuples(st.integers(0, 6), st.integers(-4, 4)), min_size=14, max_size=14),
            st.lists(st.floats(4, 30), min_size=14, max_size=14),
            st.lists(st.one_of(texts(), st.just("<b>GENE1</b>")), min_size=14, max_size=14),
            st.lists(positions, min_size=14, max_size=14),
            st.sampled_from([((-0.5, 6.5), (-5.0, 5.0), 700.0, 500.0), ((0, 1), (0, 1), 50, 50)]),
            st.floats(6, 14),
        ),
        N,
    )
    for n, pts, sizes, words, preferred, frame, font in drawn:
        points = [(float(x), y * 0.5) for x, y in pts[:n]]
        layouts.append((points, sizes[:n], words[:n], preferred[:n], frame, font))
    compare(
        "labels",
        "placeLabels",
        _place,
        layouts,
        js_args=lambda a: (*a[:4], New("labels.Frame", a[4]), a[5]),
    )
