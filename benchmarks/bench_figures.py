"""Benchmark of the figure builders (ctsite.figures) at the real study's scale.

    python benchmarks/bench_figures.py [--store PATH] [--repeats 30]

Without --store it builds (once, cached under benchmarks/out/figures-store/) the demo generator
scaled to 11 cell types × the real mouse ligand–receptor list (~1,000 targets per cell type).
For each figure and condition it prints the build time (first call, then p50/p95 over the
repeats: parse + build + JSON encoding, no figure cache), the JSON size, the number of traces and
of chords/edges. Target (issue 3): p95 < 300 ms per figure at default settings.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

from ctsite.compile.demo import CELL_TYPES as DEMO_CELL_TYPES

ROOT = Path(__file__).resolve().parents[1]
SHARED_LR = ROOT.parent / "shared" / "data" / "interactions_mm10.tsv"
OUT = ROOT / "benchmarks" / "out" / "figures-store"
# The demo's eight cell types plus three more, as in the study.
CELL_TYPES_11 = (*DEMO_CELL_TYPES, "B cells", "pDC", "Fibroblasts 2")


def build_store(directory: Path) -> Path:
    """The demo generator scaled to 11 cell types and the real LR list, compiled (cached)."""
    import pandas as pd

    from ctsite.compile import demo
    from ctsite.compile.build import compile_store
    from ctsite.compile.dataset import parse_data_spec
    from ctsite.config import load_settings

    config = directory / "ctsite.toml"
    if not config.is_file():
        started = time.perf_counter()
        lr = pd.read_csv(SHARED_LR, sep="\t")
        pairs = list(zip(lr["ligand"], lr["receptor"], strict=True))
        config = demo.write_demo(
            directory, cells_per_type=200, cell_types=CELL_TYPES_11, pairs=pairs
        )
        print(f"dataset written in {time.perf_counter() - started:.1f} s")
    settings = load_settings(config_file=config, environ={})
    spec = parse_data_spec(settings.data, settings.root)
    started = time.perf_counter()
    result = compile_store(spec, settings.compiled_path, jobs=2)
    print(f"store {result.status} in {time.perf_counter() - started:.1f} s → {result.path}")
    return result.path


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def measure(store, name: str, query: dict[str, str], repeats: int) -> dict[str, float]:
    import plotly.utils

    from ctsite.figures import FIGURES, parse_params

    spec = FIGURES[name]
    times, cpu = [], []
    size = traces = 0
    result = None
    for _ in range(repeats + 1):
        started, cpu_started = time.perf_counter(), time.process_time()
        params = parse_params(spec, store, query)
        result = spec.build(store, params)
        body = json.dumps(result.figure, cls=plotly.utils.PlotlyJSONEncoder)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
        size, traces = len(body), len(result.figure["data"])
    assert result is not None
    rows = len(result.table)
    if name == "circos":
        rows = int((result.table["kind"] == "chord").sum())
    return {
        "first_ms": times[0] * 1000,
        "p50_ms": statistics.median(times[1:]) * 1000,
        "p95_ms": p95(times[1:]) * 1000,
        "cpu_p95_ms": p95(cpu[1:]) * 1000,
        "kb": size / 1024,
        "traces": traces,
        "rows": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", type=Path, help="a compiled store (default: build one)")
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()

    from ctsite.store import Store

    store_path = args.store or build_store(OUT)
    store = Store.open(store_path)
    targets = len(store.circos_table(store.conditions[0].name, 0.25))
    print(
        f"store: {len(store.cell_types)} cell types, {targets} (cell type, target) rows, "
        f"{len(store.genes)} genes, {len(store.conditions)} conditions"
    )
    cases: list[tuple[str, dict[str, str]]] = []
    for cond in store.conditions:
        cases.append(("circos", {"condition": cond.name}))
        cases.append(("pairwise", {"condition": cond.name}))
        if cond.kind == "single":
            cases.append(("effects", {"condition": cond.name}))
    combined = store.default_condition().name
    cases += [
        ("circos", {"condition": combined, "min_numsigi1": "0", "min_log2fc": "0"}),
        ("circos", {"condition": combined, "genes": "Ccl2,Apoe"}),
        (
            "pairwise",
            {
                "condition": combined,
                "min_numsigi1": "0",
                "bidirectional": "1",
                "cell_type3": store.cell_types[2],
                "min_log2fc": "0",
            },
        ),
        ("effects", {"steps": "5", "min_log2fc": "0.05"}),
    ]
    header = (
        f"{'figure':9} {'query':52} {'first':>7} {'p50':>7} {'p95':>7} {'cpu95':>7} {'KB':>6} "
        f"{'traces':>6} {'rows':>6}"
    )
    print(header)
    print("-" * len(header))
    worst_default = worst_cpu = 0.0
    for i, (name, query) in enumerate(cases):
        m = measure(store, name, query, args.repeats)
        text = ",".join(f"{k}={v}" for k, v in query.items())
        text = text.replace("highCIN_vs_", "")[:52]
        print(
            f"{name:9} {text:52} {m['first_ms']:7.1f} {m['p50_ms']:7.1f} {m['p95_ms']:7.1f} "
            f"{m['cpu_p95_ms']:7.1f} {m['kb']:6.0f} {m['traces']:6d} {m['rows']:6d}"
        )
        if i < len(cases) - 4:
            worst_default = max(worst_default, m["p95_ms"])
            worst_cpu = max(worst_cpu, m["cpu_p95_ms"])
    verdict = "PASS" if worst_default < 300 else "FAIL"
    print(
        f"worst p95 at default settings: {worst_default:.1f} ms wall, {worst_cpu:.1f} ms CPU "
        f"(target < 300 ms): {verdict}"
    )
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
