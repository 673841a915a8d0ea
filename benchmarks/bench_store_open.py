"""Benchmark of opening a store version with its integrity check, and of the health check after.

    python benchmarks/bench_store_open.py [--store PATH] [--workdir DIR] [--repeats N]

Without --store it builds the study-scale store (11 cell types × 1,000 targets × 10,000 genes,
50,000 cells) with the compile benchmark's generator, as `bench_web.py` does. Prints, each figure
beside its target (issue 22):
- `Store.open` of the current version, which hashes every object once and compares it with its
  SHA-256 name: warm page cache, median and worst of --repeats (target: a few tens of ms for the
  ~15 MB of the study-scale store), with the hashing alone beside it;
- `StoreHandle.health()` (what every /healthz call costs: read the pointer, stat each file of
  the open version; target: well under 1 ms, no hashing) and a whole /healthz request through
  the Flask app;
- the first ligand-effects read of a condition (the effect arrays read into memory, not
  memory-mapped) and the median of the following ones (target < 5 ms, as `bench_compile.py`).
The machine may be shared: `uptime`'s load is printed first so noisy figures can be judged.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]  # this checkout's ctsite, bench_web


def timed(fn: Callable[[], object], repeats: int) -> list[float]:
    """Wall times of `repeats` calls of `fn`, in milliseconds."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, help="an existing compiled store")
    parser.add_argument("--workdir", type=Path, default=ROOT / "benchmarks" / "out" / "web")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    if args.store is None:
        from bench_web import build_store  # the website benchmark's study-scale store

        args.workdir.mkdir(parents=True, exist_ok=True)
        args.store = build_store(args.workdir)
    print(f"load average (1, 5, 15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"on {os.cpu_count()} CPUs")  # fmt: skip

    from ctsite.config import load_settings
    from ctsite.store import Store, integrity, versions
    from ctsite.store.handle import StoreHandle
    from ctsite.web.app import create_app

    store = Store.open(args.store)  # warms the page cache
    objects = {
        store.path.parent.parent / "objects" / e["object"]
        for e in versions.file_map(store.manifest).values()
    }
    size = sum(p.stat().st_size for p in objects)
    print(f"store: {args.store} — version {store.version}, {len(objects)} objects, "
          f"{size / 1e6:.1f} MB")  # fmt: skip

    opens = timed(lambda: Store.open(args.store), args.repeats)
    hashing = timed(lambda: [integrity.file_sha256(p) for p in objects], args.repeats)
    print(f"Store.open with the SHA-256 check:     median {statistics.median(opens):.1f} ms, "
          f"worst {max(opens):.1f} ms (target: a few tens of ms for ~15 MB)")  # fmt: skip
    print(f"  of which hashing every object:       median {statistics.median(hashing):.1f} ms "
          f"({size / 1e6 / (statistics.median(hashing) / 1000):.0f} MB/s)")  # fmt: skip

    handle = StoreHandle(args.store)
    handle.get()
    health = timed(handle.health, args.repeats * 50)
    assert handle.health().ok, handle.health().problems
    print(f"StoreHandle.health() (pointer + stats): median "
          f"{statistics.median(health) * 1000:.0f} µs, p99 "
          f"{sorted(health)[int(0.99 * len(health))] * 1000:.0f} µs "
          f"(target: well under 1 ms, no hashing)")  # fmt: skip
    app = create_app(load_settings(root=args.workdir, environ={}), store_path=args.store)
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    requests = timed(lambda: client.get("/healthz"), args.repeats * 20)
    print(f"GET /healthz (Flask, in process):      median {statistics.median(requests):.2f} ms")

    fresh = Store.open(args.store)
    cond = fresh.default_condition(single=True).name
    circos = fresh.circos_table(cond, 0.25)
    fresh.expression(str(circos["cell_type"].iloc[0]), fresh.genes[0])  # the shared tables
    rows = list(circos.itertuples())[:: max(1, len(circos) // 200)]
    times = [timed(lambda r=r: fresh.ligand_effects(cond, r.cell_type, r.target), 1)[0]
             for r in rows]  # fmt: skip
    print(f"ligand-effects read (one row):         first {times[0]:.1f} ms (reads the "
          f"condition's arrays into memory), then median {statistics.median(times[1:]):.2f} ms "
          "(target < 5 ms)")  # fmt: skip


if __name__ == "__main__":
    main()
