"""Pure helpers of the figures: colour scales, sector/chord geometry, JSON-safe numbers."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctsite.figures import colors, geometry
from ctsite.figures.common import esc, fmt, fmt_many, fraction, nums


def test_scales_clip_and_interpolate():
    lo, hi = colors.LIGAND_LOG2FC_RANGE
    assert colors.sample(colors.BLUE_WHITE_RED, -1.0, lo, hi) == "#0000ff"
    assert colors.sample(colors.BLUE_WHITE_RED, 0.0, lo, hi) == "#ffffff"
    assert colors.sample(colors.BLUE_WHITE_RED, 0.2, lo, hi) == "#ff0000"
    assert colors.sample(colors.BLUE_WHITE_RED, 5.0, lo, hi) == "#ff0000"
    assert colors.sample(colors.BLUE_WHITE_RED, 0.1, lo, hi) in ("#ff7f7f", "#ff8080")
    assert colors.sample(colors.CIVIDIS, -0.5, *colors.INDUCED_LOG2FC_RANGE) == colors.CIVIDIS[0]
    assert colors.sample(colors.CIVIDIS, 0.5, *colors.INDUCED_LOG2FC_RANGE) == colors.CIVIDIS[-1]
    assert colors.sample(colors.RED_BLUE, 0.0, *colors.DA_RANGE) == "#f7f7f7"
    assert colors.sample(colors.CIVIDIS, float("nan"), -1, 1) == colors.sample(
        colors.CIVIDIS, 0, -1, 1
    )
    scale = colors.colorscale(colors.GREYS)
    assert scale == [[0.0, "#ffffff"], [1.0, "#000000"]]
    assert colors.with_alpha("#a3d106", 0.25) == "rgba(163,209,6,0.25)"


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-10, max_value=10))
def test_bins_cover_the_range(value):
    i = colors.bin_index(value, -0.2, 0.2, 11)
    assert 0 <= i < 11
    if value <= -0.2:
        assert i == 0
    if value >= 0.2:
        assert i == 10


def test_sectors_fill_the_circle_in_order():
    layout = geometry.sectors([("A", 30), ("B", 10), ("C", 0), ("D", 60)])
    assert [s.name for s in layout] == ["A", "B", "D"]  # empty sectors are dropped
    spans = [s.end - s.start for s in layout]
    assert sum(spans) + 3 * geometry.SECTOR_GAP == pytest.approx(360)
    assert spans[0] / spans[1] == pytest.approx(3)
    assert all(a.end < b.start for a, b in itertools.pairwise(layout))
    thetas, widths = geometry.slot_angles(layout)
    assert len(thetas) == 100 and np.all(np.diff(thetas) > 0)
    assert widths[0] == pytest.approx(spans[0] / 30)
    one = geometry.sectors([("only", 4)])
    assert one[0].start == 0 and one[0].end == 360
    assert geometry.sectors([]) == []


def test_chord_curves_join_their_ends_through_the_inside():
    r, t = geometry.chord_curves(np.array([10.0, 200.0]), np.array([100.0, 20.0]), 0.6, 9)
    assert r.shape == (2, 9)
    assert r[:, 0] == pytest.approx([0.6, 0.6]) and r[:, -1] == pytest.approx([0.6, 0.6])
    assert t[0, 0] == pytest.approx(10) and t[0, -1] == pytest.approx(100)
    assert t[1, 0] == pytest.approx(200) and t[1, -1] == pytest.approx(20)
    assert (r[:, 1:-1] < 0.6).all()
    one_r, one_t = geometry.chord_curve(10.0, 100.0, 0.6, 9)
    assert one_r == pytest.approx(r[0]) and one_t == pytest.approx(t[0])
    # same slot (autocrine on one gene) degenerates to a point, without NaN
    r, t = geometry.chord_curves(np.array([45.0]), np.array([45.0]), 0.6, 5)
    assert np.isfinite(r).all() and np.isfinite(t).all()
    # opposite ends go through the centre
    r, _ = geometry.chord_curves(np.array([0.0]), np.array([180.0]), 0.6, 5)
    assert np.isfinite(r).all() and r[0, 2] == pytest.approx(0, abs=1e-9)


def test_layout_helpers():
    assert geometry.column_positions([3, 1]) == [[1.0, 0.0, -1.0], [0.0]]
    x0, y0, x1, y1 = geometry.shorten(0, 0, 10, 0, 1, 2)
    assert (x0, y0, x1, y1) == (1, 0, 8, 0)
    assert geometry.scale(5, 0, 10, 2, 6) == 4
    assert geometry.scale(50, 0, 10, 2, 6) == 6
    assert geometry.scale(3, 3, 3, 2, 6) == 4
    assert geometry.text_position(0) == "top center"
    assert geometry.text_position(90) == "middle right"
    assert geometry.text_position(180) == "bottom center"
    assert geometry.text_position(270) == "middle left"


def test_json_safe_numbers_and_text():
    assert nums([1.23456, float("nan"), float("inf"), 2], 2) == [1.23, None, None, 2.0]
    assert fmt(float("nan")) == "n/a" and fmt(0.1234) == "0.123" and fmt(12) == "12"
    assert fmt(1e-6) == "1.00e-06"
    assert fmt_many([0.5, float("nan")]) == ["0.5", "n/a"]
    assert esc("<script>") == "&lt;script&gt;"
    assert fraction(np.float32(0.3)) == 0.3
    assert not math.isclose(float(np.float32(0.3)), 0.3, rel_tol=0, abs_tol=1e-9)
