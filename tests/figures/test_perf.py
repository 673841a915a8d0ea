"""Performance sanity: every default figure of the demo store builds and encodes quickly.

The real-scale targets (p95 < 300 ms at 11 cell types × ~1000 targets) are measured by
`python benchmarks/bench_figures.py`; this only catches gross regressions (CPU time, so a busy
CI machine does not make it flaky).
"""

from __future__ import annotations

import json
import statistics
import time

import plotly.utils
import pytest

from ctsite.figures import FIGURES, parse_params


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_default_build_is_fast(demo_store, name):
    spec = FIGURES[name]
    spec.build(demo_store, parse_params(spec, demo_store, {}))  # warm the store's caches
    cpu = []
    for _ in range(5):
        started = time.process_time()
        result = spec.build(demo_store, parse_params(spec, demo_store, {}))
        json.dumps(result.figure, cls=plotly.utils.PlotlyJSONEncoder)
        cpu.append(time.process_time() - started)
    assert statistics.median(cpu) < 0.3, f"{name}: {statistics.median(cpu) * 1000:.0f} ms CPU"
