"""The canonical comparison itself (tests/support/canonical.py): what it lets through and what
it does not, so a conformance test cannot pass by comparing loosely."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tests.support.canonical import canonical_equal, differences, plain


def test_floats_within_a_relative_1e_9_and_nan_equal_nan():
    assert canonical_equal(1.0, 1.0 + 5e-10)
    assert not canonical_equal(1.0, 1.0 + 5e-9)
    assert canonical_equal(0.0, 5e-13) and not canonical_equal(0.0, 5e-12)
    assert canonical_equal(math.nan, math.nan)
    assert not canonical_equal(math.nan, None) and not canonical_equal(math.nan, 0.0)
    assert canonical_equal(math.inf, math.inf) and not canonical_equal(math.inf, -math.inf)
    assert canonical_equal(3, 3.0) and not canonical_equal(10**17, 10**17 + 2)


def test_everything_else_exactly():
    assert not canonical_equal(True, 1) and not canonical_equal(0, False)
    assert not canonical_equal("1", 1) and not canonical_equal(None, 0)
    assert canonical_equal({"a": 1, "b": [1, 2]}, {"b": [1, 2], "a": 1})  # key order ignored
    assert not canonical_equal([1, 2], [2, 1])  # list order is not
    assert not canonical_equal([1, 2], [1, 2, 3])
    assert not canonical_equal({"a": 1}, {"a": 1, "b": None})
    found = differences({"x": [1.0, "a"]}, {"x": [1.1, "b"]})
    assert found == ["$.x[0]: expected 1.0, got 1.1", "$.x[1]: expected 'a', got 'b'"]


def test_plain_is_the_json_of_python_values():
    @dataclass(frozen=True)
    class Point:
        label_size: float
        corners: tuple[tuple[float, float], ...]

    value = {"p": Point(9.5, ((0.0, 1.0),)), "a": np.array([1.5, np.nan], np.float32)}
    assert canonical_equal(
        plain(value), {"p": {"labelSize": 9.5, "corners": [[0.0, 1.0]]}, "a": [1.5, math.nan]}
    )
    assert plain(np.float32(0.3)) == float(np.float32(0.3))
