"""web-assets/engine/circos_labels.js against ctsite/figures/circos_labels.py: the Circos label
layout (sector names fitted to the picture, gene labels spread by the bounded isotonic fit, the
strongest kept when a sector is crowded) for every width class, on generated circles (crowded,
empty, one sector, ties of strength and angle, long names, searched genes) and on the label
candidates the Python builder makes for the demo store."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import strategies as st

from ctsite.figures import FIGURES, circos_labels, geometry, parse_params
from ctsite.figures.circos_labels import Candidate, Placed
from tests.support.canonical import plain
from tests.support.engine_inputs import examples, finite_edge_floats, texts
from tests.support.node_engine import New, compare, constant

N = 250
CLASSES = list(circos_labels.WIDTH_CLASSES.values())
GENES = ["CD74", "HLA-DRA", "APP", "TNFRSF1A", "CXCL12", "VEGFA", "MIF", "LGALS9", "A" * 24]


def test_constants_are_pythons():
    for name in ("LABEL_PAD", "NAME_GAP", "EDGE", "MAX_NAME_LINES"):
        assert constant("circos_labels", name) == getattr(circos_labels, name), name
    assert constant("circos_labels", "WIDTH_CLASSES") == plain(circos_labels.WIDTH_CLASSES)
    compare(
        "circos_labels",
        "WidthClass.leader",
        lambda cls: cls.leader,
        [(cls,) for cls in CLASSES],
        js_args=lambda a: (New("circos_labels.WidthClass", (plain(a[0]),)),),
    )


def test_isotonic_and_spread():
    values = st.lists(finite_edge_floats(-400, 400), max_size=30)
    inputs = examples(st.tuples(values), N)
    inputs += [([3.0, 1.0, 2.0],), ([1.0, 1.0, 0.0, 0.0],), ([],)]
    compare(
        "circos_labels", "isotonic", lambda v: circos_labels._isotonic(np.array(v, float)), inputs
    )
    spreads = []
    for thetas, step, lo in examples(
        st.tuples(st.lists(st.floats(0, 360), max_size=40), st.floats(0.5, 12), st.floats(0, 5)),
        N,
    ):
        thetas = sorted(thetas)
        hi = max(360.0 - lo, lo + (len(thetas) - 1) * step)
        spreads.append((thetas, step, lo, hi))
    spreads += [([10.0, 10.0, 10.0], 2.0, 0.0, 360.0), ([0.0, 359.0], 5.0, 2.5, 357.5)]
    compare(
        "circos_labels",
        "spread",
        lambda t, s, lo, hi: circos_labels.spread(np.array(t, float), s, lo, hi),
        spreads,
    )


def test_angles_corners_and_overlap():
    angles = examples(st.tuples(finite_edge_floats(-1000, 1000)), N)
    angles += [(v,) for v in (0.0, 90.0, 180.0, 270.0, 360.0, -0.0, 180.00000000000003)]
    compare("circos_labels", "labelAngle", circos_labels.label_angle, angles)
    compare("circos_labels", "nameAngle", circos_labels.name_angle, angles)
    boxes = examples(
        st.tuples(
            st.tuples(st.floats(0, 100), st.floats(0, 100)), st.floats(-360, 360),
            st.floats(0, 60), st.floats(0, 20),
            st.tuples(st.floats(0, 100), st.floats(0, 100)), st.floats(-360, 360),
            st.floats(0, 60), st.floats(0, 20),
        ),
        N,
    )  # fmt: skip
    corners = [
        (Placed("x", c, a, w, h, 10.0, False), Placed("y", c2, a2, w2, h2, 10.0, False))
        for c, a, w, h, c2, a2, w2, h2 in boxes
    ]
    compare(
        "circos_labels",
        "Placed#corners",
        lambda p: p.corners(),
        [(p,) for p, _ in corners],
        js_args=lambda a: (New("circos_labels.Placed", tuple(plain(a[0]).values())),),
    )
    compare(
        "circos_labels",
        "overlap",
        circos_labels.overlap,
        [(p.corners(), q.corners()) for p, q in corners]
        + [([(0, 0), (1, 0), (1, 1), (0, 1)], [(1, 0), (2, 0), (2, 1), (1, 1)])],
    )


def _layout(sectors: list[geometry.Sector], candidates: list[Candidate], cls: Any) -> Any:
    return circos_labels.layout_circos(sectors, candidates, cls)


def _js(args: tuple[Any, ...]) -> tuple[Any, ...]:
    sectors, candidates, cls = args
    return (
        [plain(s) for s in sectors],
        [plain(c) for c in candidates],
        New("circos_labels.WidthClass", (plain(cls),)),
    )


def _circle(draw: Any) -> tuple[list[geometry.Sector], list[Candidate]]:
    counts = draw(
        st.lists(st.tuples(st.one_of(st.sampled_from(["B cells", "CD4 T", "Mono", "NK/T cells",
                 "Dendritic cells (plasmacytoid)"]), texts()), st.integers(1, 80)),
                 min_size=1, max_size=9)
    )  # fmt: skip
    sectors = geometry.sectors(counts)
    thetas, _ = geometry.slot_angles(sectors)
    sector_of = np.repeat(np.arange(len(sectors)), [s.count for s in sectors])
    share = draw(st.floats(0, 1))
    strengths = draw(st.lists(st.sampled_from([0.0, 1.0, 2.5, 7.0, 12.0]), min_size=1))
    candidates = []
    for i, theta in enumerate(thetas.tolist()):
        if draw(st.floats(0, 1)) > share:
            continue
        highlighted = draw(st.booleans()) and draw(st.booleans())
        candidates.append(
            Candidate(
                text=draw(st.one_of(st.sampled_from(GENES), st.text(min_size=1, max_size=12))),
                theta=theta,
                sector=int(sector_of[i]),
                highlighted=highlighted,
                strength=strengths[i % len(strengths)],
                bold=highlighted,
            )
        )
    # the builder lists candidates by angle; another order checks the ties' tiebreak
    return sectors, draw(st.permutations(candidates)) if draw(st.booleans()) else candidates


def test_layout_on_generated_circles():
    circles = examples(st.composite(_circle)(), 210)
    inputs = [(s, c, cls) for (s, c), cls in zip(circles, CLASSES * 70, strict=False)]
    assert compare("circos_labels", "layoutCircos", _layout, inputs, js_args=_js) == 210


def _plan(candidates: list[Candidate], sectors: list[Any], step: float, eligible: list[int]) -> Any:
    return circos_labels._plan(candidates, sectors, step, eligible)


def _room_edges() -> list[tuple[float, int]]:
    """(step, k): a circle of 360 / step labels (few: the capacity binds) and arcs of k steps
    (less the gap) whose room, computed, falls just short of k."""
    out = []
    for m in range(3, 60):
        step = 360 / m
        for k in range(1, m // 2):
            arc = k * step - geometry.SECTOR_GAP
            if arc > 0 and math.floor((arc + geometry.SECTOR_GAP) / step) < k:
                out.append((step, k))
    return out


def test_plan_at_the_room_and_capacity_edges():
    """Each sector's room and the circle's capacity are counted with a 1e-9 allowance, so an arc
    that holds k labels up to rounding (0.3 / 0.1 is 2.9999999999999996) holds k."""
    edges = _room_edges()
    assert len(edges) > 20
    cases = []
    steps = [(step, k) for step, k in edges] + [(360 / k, k) for k in range(1, 60)]
    for step, k in steps:
        arc = max(k * step - geometry.SECTOR_GAP, 0.0)
        sectors = [geometry.Sector("A", 0.0, arc, 1), geometry.Sector("B", 180.0, 180.0 + arc, 1)]
        capacity = round(360 / step)
        for n in (k, k + 1, 2 * k + 3, capacity + 3, 2 * capacity + 1):
            mixed = [
                Candidate(f"G{i}", (i * 7.3) % 360.0, i % 2, i % 5 == 0, float(i % 3), False)
                for i in range(n)
            ]
            # sector B's labels all outrank A's: only A's own room keeps A's labels
            ranked = [
                Candidate(f"G{i}", (i * 7.3) % 360.0, i % 2, False, 10.0 * (i % 2), False)
                for i in range(n)
            ]
            for candidates in (mixed, ranked):
                cases.append((candidates, sectors, step, list(range(n))))
                cases.append((candidates, sectors[:1], step, list(range(0, n, 2))))
    compare(
        "circos_labels",
        "plan",
        _plan,
        cases,
        js_args=lambda a: ([plain(c) for c in a[0]], [plain(s) for s in a[1]], a[2], a[3]),
    )


@pytest.mark.slow
def test_layout_on_the_demo_stores_candidates(demo_store, monkeypatch):
    """The candidates the Python Circos builder makes for the demo store (several filters, the
    label cap, searched genes, every width class) give the same layout in the engine."""
    captured: list[tuple[Any, ...]] = []
    real = circos_labels.layout_circos

    def capture(sectors: Any, candidates: Any, cls: Any) -> Any:
        captured.append((list(sectors), list(candidates), cls))
        return real(sectors, candidates, cls)

    monkeypatch.setattr(circos_labels, "layout_circos", capture)
    spec = FIGURES["circos"]
    queries: list[dict[str, str]] = [
        {},
        {"min_numsigi1": "0"},
        {"min_numsigi1": "0", "min_log2fc": "0", "fdr_i": "0.25", "fdr_l": "0.25"},
        {"min_numsigi1": "30"},
        {"genes": "CD74,APP,MIF"},
    ]
    for query in queries:
        for size in circos_labels.WIDTH_CLASSES:
            params = parse_params(spec, demo_store, {**query, "size": size})
            spec.build(demo_store, params)
    assert len(captured) >= 10 and any(len(c) > 50 for _, c, _ in captured)
    compare("circos_labels", "layoutCircos", _layout, captured, js_args=_js)
