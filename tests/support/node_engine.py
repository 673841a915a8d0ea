"""Runs functions of the browser engine (web-assets/engine/*.js) in Node for the conformance
tests: one `node tests/engine/run_functions.mjs` per batch of calls (starting Node per example
would dominate the suite's time), values carried as tagged JSON both ways (NaN, infinities,
-0.0, Python ints as BigInt, float32/float64 arrays, engine class instances).

`compare` runs a Python function and its engine port on the same inputs and lists every input
whose results differ by more than the canonical tolerance (tests/support/canonical.py), or where
only one side raised.
"""

from __future__ import annotations

import json
import math
import subprocess
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tests.support.canonical import differences, plain

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "tests" / "engine" / "run_functions.mjs"
WEB_ASSETS = ROOT / "web-assets"


@dataclass(frozen=True)
class PyInt:
    """A Python int the engine must see as one (a BigInt), not as a float."""

    value: int


@dataclass(frozen=True)
class New:
    """An instance of an engine class: `New("labels.Frame", [...])` is `new Frame(...)`."""

    cls: str
    args: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Call:
    module: str
    function: str
    args: tuple[Any, ...] | None = ()
    returns_args: int = 0  # the engine function changes its first N arguments: return them


@dataclass(frozen=True)
class Outcome:
    value: Any = None
    error: str | None = None


def encode(value: Any) -> Any:
    """A Python value as the runner's tagged JSON."""
    if isinstance(value, PyInt):
        return {"$int": str(value.value)}
    if isinstance(value, New):
        return {"$new": value.cls, "args": [encode(v) for v in value.args]}
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if hasattr(value, "to_numpy") and not isinstance(value, np.ndarray):  # a pandas column
        return encode(value.to_numpy())
    if isinstance(value, np.ndarray):
        if value.dtype == np.float32 and value.ndim == 1:
            return {"$f32": [encode(float(v)) for v in value.tolist()]}
        return encode(value.tolist())
    if isinstance(value, np.generic):
        return encode(value.item())
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return {"$float": "nan"}
        if math.isinf(value):
            return {"$float": "inf" if value > 0 else "-inf"}
        if value == 0 and math.copysign(1.0, value) < 0:
            return {"$float": "-0"}
        return value
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    raise TypeError(f"cannot send {type(value).__name__} to the engine")


FLOATS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf, "-0": -0.0}


def decode(value: Any) -> Any:
    """The runner's tagged JSON as Python values."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"$float"}:
            return FLOATS[value["$float"]]
        if set(value) == {"$int"}:
            return int(value["$int"])
        return {k: decode(v) for k, v in value.items()}
    return value


def _node() -> str:
    from tests.support.engine import node

    return node()


def run_calls(calls: Sequence[Call]) -> list[Outcome]:
    """Every call's result (or error), from one Node process."""
    payload = json.dumps(
        [
            {"module": c.module, "function": c.function, "returns_args": c.returns_args}
            | ({} if c.args is None else {"args": encode(list(c.args))})
            for c in calls
        ]
    )
    done = subprocess.run(
        [_node(), "--no-warnings", str(RUNNER)],
        input=payload,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the engine runner failed ({done.returncode}):\n{done.stderr}")
    results = json.loads(done.stdout)
    return [
        Outcome(error=r["error"]) if "error" in r else Outcome(value=decode(r["ok"]))
        for r in results
    ]


def constant(module: str, name: str) -> Any:
    """An engine module's exported constant."""
    (outcome,) = run_calls([Call(module, name, None)])
    if outcome.error:
        raise AssertionError(outcome.error)
    return outcome.value


def call(module: str, function: str, *args: Any) -> Any:
    """One engine function's result (an AssertionError with the engine's error if it threw)."""
    (outcome,) = run_calls([Call(module, function, args)])
    if outcome.error:
        raise AssertionError(outcome.error)
    return outcome.value


def compare(
    module: str,
    function: str,
    python: Callable[..., Any],
    inputs: Iterable[tuple[Any, ...]],
    *,
    js_args: Callable[[tuple[Any, ...]], tuple[Any, ...]] | None = None,
    result: Callable[[Any], Any] = plain,
    returns_args: int = 0,
    show: int = 5,
) -> int:
    """Run `python(*args)` and the engine's `module.function` on every input; fail listing the
    inputs whose results differ. `js_args` maps a Python input to the engine's arguments;
    `result` maps the Python result to JSON; `returns_args`: the engine function changes its
    first N arguments in place, and those are its result. Returns how many inputs were
    compared."""
    cases = list(inputs)
    calls = [
        Call(module, function, js_args(args) if js_args else args, returns_args) for args in cases
    ]
    outcomes = run_calls(calls)
    failures: list[str] = []
    for args, outcome in zip(cases, outcomes, strict=True):
        try:
            expected: Any = result(python(*args))
            raised = None
        except Exception as exc:  # the engine must refuse the same input
            expected, raised = None, f"{type(exc).__name__}: {exc}"
        if raised is not None or outcome.error is not None:
            if (raised is None) != (outcome.error is None):
                failures.append(
                    f"{function}{args!r}: python {raised or repr(expected)}, "
                    f"engine {outcome.error or repr(outcome.value)}"
                )
            continue
        found = differences(expected, outcome.value)
        if found:
            failures.append(f"{function}{args!r}:\n    " + "\n    ".join(found[:5]))
    if failures:
        raise AssertionError(
            f"{len(failures)} of {len(cases)} inputs differ between the Python "
            f"{function} and the engine's:\n" + "\n".join(failures[:show])
        )
    return len(cases)
