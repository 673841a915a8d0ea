"""Run the browser engine (web-assets/engine/) in Node and compare it with the Python code.

`run_engine(index, calls)` sends a list of calls (tests/engine/calls.mjs says their shape) to
tests/engine/run.mjs and returns its results; `run_python(store, calls)` answers the same calls
with the Python Store, parse_params, to_query and Python's own formatting; tests/support/canonical.py's `differences`
is the canonical comparison of the conformance suite: JSON values equal exactly, except floats
(relative tolerance 1e-9, absolute 1e-12 near zero; NaN equals NaN) and dict key order.
"""

from __future__ import annotations

import base64
import io
import json
import math
import shutil
import subprocess
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from werkzeug.wrappers import Request

from ctsite.errors import CtsiteError
from ctsite.figures import FIGURES, parse_params, to_query
from tests.support.canonical import differences
from tests.support.components import unavailable

REPO = Path(__file__).resolve().parents[2]
WEB_ASSETS = REPO / "web-assets"
RUNNER = REPO / "tests" / "engine" / "run.mjs"
NODE_SECONDS = 600
Call = dict[str, Any]


def node() -> str:
    """The `node` executable, with web-assets' npm packages installed (else skip/fail)."""
    found = shutil.which("node")
    if found is None:
        unavailable("node not found (apt-get install nodejs)")
    if not (WEB_ASSETS / "node_modules" / "apache-arrow").is_dir():
        unavailable("web-assets' npm packages are not installed (npm ci --prefix web-assets)")
    return found


def encode(value: Any) -> Any:
    """A Python value as the engine's JSON (see calls.mjs): non-finite floats as {"$float"}."""
    if isinstance(value, pd.DataFrame):
        return {
            "$frame": {
                "names": [str(c) for c in value.columns],
                "dtypes": {str(c): str(value[c].dtype) for c in value.columns},
                "columns": {str(c): encode(value[c].tolist()) for c in value.columns},
                "length": len(value),
            }
        }
    if isinstance(value, np.ndarray):
        return encode(value.tolist())
    if isinstance(value, np.generic):
        return encode(value.item())
    if is_dataclass(value) and not isinstance(value, type):
        return encode(asdict(value))
    if isinstance(value, float):
        if math.isnan(value):
            return {"$float": "nan"}
        if math.isinf(value):
            return {"$float": "inf" if value > 0 else "-inf"}
        return value
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    return value


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        if "$float" in value:
            return float(value["$float"])
        return {k: decode(v) for k, v in value.items()}
    return value


class EngineOpenError(AssertionError):
    """The engine could not open the data index (`.error`: its type, message, hint, reason)."""

    def __init__(self, error: dict[str, Any]):
        super().__init__(f"the engine could not open the data index: {error}")
        self.error = error


def run_engine(index: Path | None, calls: list[Call], *, prepare_all: bool = True) -> list[Any]:
    """The engine's results for `calls` against the data index `index` (None: no store)."""
    request = {"index": str(index) if index else None, "prepare_all": prepare_all, "calls": calls}
    done = subprocess.run(
        [node(), str(RUNNER)],
        input=json.dumps(request, allow_nan=False).encode("utf-8"),
        capture_output=True,
        timeout=NODE_SECONDS,
        check=False,
        cwd=REPO,
    )
    if done.returncode != 0:
        raise AssertionError(f"the engine runner failed:\n{done.stderr.decode(errors='replace')}")
    answer = json.loads(done.stdout.decode("utf-8"))
    if isinstance(answer, dict):
        raise EngineOpenError(answer["open_error"])
    return list(answer)


def _error(exc: Exception) -> dict[str, Any]:
    error = {"type": type(exc).__name__, "message": str(exc), "hint": None, "reason": None}
    if isinstance(exc, CtsiteError):
        error |= {"message": exc.message, "hint": exc.hint, "reason": getattr(exc, "reason", None)}
    return {"error": error}


def _python_float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


TEXT_HELPERS = {
    "formatG": lambda x, p=6: format(x, f".{p}g"),
    "formatFixed": lambda x, d: format(x, f".{d}f"),
    "pyRepr": repr,
    "pyFloatRepr": lambda x: repr(float(x)),
    "pyFloat": _python_float,
    "pyStrip": str.strip,
}


def _python_one(store: Any, call: Call) -> Any:
    args = decode(call.get("args", []))
    fn = call["fn"]
    if fn == "store":
        member = getattr(store, call["method"])
        return member(*args) if callable(member) else member
    if fn == "prepare":
        return None
    if fn == "parseParams":
        query = decode(call["query"])
        if isinstance(query, str):  # a URL's query string, read as the server reads it
            query = Request.from_values(query_string=query).args
        return parse_params(FIGURES[call["figure"]], store, query)
    if fn == "frameFromIPC":
        return pd.read_feather(io.BytesIO(base64.b64decode(args[0])))
    if fn == "toQuery":
        return to_query(FIGURES[call["figure"]], decode(call["params"]))
    return TEXT_HELPERS[fn](*args)


def run_python(store: Any, calls: list[Call]) -> list[Any]:
    """What the Python code answers to `calls` (the expected results)."""
    results: list[Any] = []
    for call in calls:
        try:
            results.append({"ok": encode(_python_one(store, call))})
        except (CtsiteError, KeyError, ValueError) as exc:
            results.append(_error(exc))
    return json.loads(json.dumps(results, allow_nan=False))


def assert_same(calls: list[Call], expected: list[Any], actual: list[Any]) -> None:
    """Every call's engine result equals Python's (the first differences named per call)."""
    assert len(expected) == len(actual)
    problems = []
    for call, e, a in zip(calls, expected, actual, strict=True):
        found = differences(decode(e), decode(a), path="")
        if found:
            problems.append(
                f"{json.dumps(call, ensure_ascii=False)[:300]}:\n  " + "\n  ".join(found[:8])
            )
    assert not problems, f"{len(problems)} of {len(calls)} calls differ:\n" + "\n".join(
        problems[:15]
    )
