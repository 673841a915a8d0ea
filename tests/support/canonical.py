"""The canonical comparison of the browser engine's results with the Python figures' (issue 26):
JSON values equal exactly, except floats, which may differ by a relative 1e-9 (absolute 1e-12
near 0); NaN equals NaN; dict key order is ignored, list order is not; a bool is never a number.

`plain` turns what the Python functions return (numpy arrays and scalars, tuples, dataclasses)
into those JSON values, so both sides are compared as the JSON a page would receive.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

REL = 1e-9
ABS = 1e-12


def camel(name: str) -> str:
    """snake_case → camelCase (the engine's spelling of a Python field name)."""
    return re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), name)


def plain(value: Any, *, camel_fields: bool = True) -> Any:
    """A JSON-like copy of `value`: numpy values as Python ones, tuples as lists, dataclass
    instances as dicts (field names in camelCase, as the engine's objects have them)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            (camel(f.name) if camel_fields else f.name): plain(
                getattr(value, f.name), camel_fields=camel_fields
            )
            for f in dataclasses.fields(value)
        }
    if isinstance(value, np.ndarray):
        return plain(value.tolist(), camel_fields=camel_fields)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Mapping):
        return {str(k): plain(v, camel_fields=camel_fields) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v, camel_fields=camel_fields) for v in value]
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def floats_equal(a: float, b: float) -> bool:
    """Equal within the canonical tolerance (NaN equals NaN, infinities by sign)."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return math.isclose(a, b, rel_tol=REL, abs_tol=ABS)


def differences(expected: Any, actual: Any, path: str = "$", limit: int = 20) -> list[str]:
    """Where `actual` differs from `expected` (JSON paths with both values; at most `limit`)."""
    out: list[str] = []
    _walk(expected, actual, path, out, limit)
    return out


def _walk(expected: Any, actual: Any, path: str, out: list[str], limit: int) -> None:
    if len(out) >= limit:
        return
    if isinstance(expected, bool) or isinstance(actual, bool):  # True is no 1 here
        if type(expected) is not type(actual) or expected != actual:
            out.append(f"{path}: expected {expected!r}, got {actual!r}")
        return
    if _is_number(expected) and _is_number(actual):
        if isinstance(expected, int) and isinstance(actual, int):
            if expected != actual:
                out.append(f"{path}: expected {expected!r}, got {actual!r}")
        elif not floats_equal(float(expected), float(actual)):
            out.append(f"{path}: expected {expected!r}, got {actual!r}")
        return
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in expected.keys() | actual.keys():
            if key not in actual:
                out.append(f"{path}.{key}: missing (expected {expected[key]!r})")
            elif key not in expected:
                out.append(f"{path}.{key}: unexpected {actual[key]!r}")
            else:
                _walk(expected[key], actual[key], f"{path}.{key}", out, limit)
        return
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            out.append(f"{path}: expected {len(expected)} items, got {len(actual)}")
        for i, (e, a) in enumerate(zip(expected, actual, strict=False)):
            _walk(e, a, f"{path}[{i}]", out, limit)
        return
    if type(expected) is not type(actual) or expected != actual:
        out.append(f"{path}: expected {expected!r}, got {actual!r}")


def canonical_equal(expected: Any, actual: Any) -> bool:
    return not differences(expected, actual, limit=1)
