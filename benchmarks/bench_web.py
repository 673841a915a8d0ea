"""Website benchmark: figure API uncached/cached latency, gunicorn throughput, page-open time.

    python benchmarks/bench_web.py [--store PATH] [--workdir DIR] [--requests N]

Without --store it builds a realistic-scale store (11 cell types × 1,000 targets × 10,000 genes,
50,000 cells) with the compile benchmark's generator (`bench_compile.generate`). Targets (issues 3
and 15): uncached p95 < 300 ms, cached p95 < 10 ms, gunicorn ≥ 300 cached req/s with 0 errors,
Chromium page open → figure drawn < 1 s in a fresh browser and < 300 ms in a warm one. A figure
page shows a static picture of its figure first and draws the interactive Plotly figure on the
first interaction, so the browser part reports both: page open → figure shown (the picture's
first paint) and page open → interactive figure drawn with the pointer on the figure at once. The
pages load the partial plotly.js bundle when it is built (`npm ci && npm run build` in
web-assets/), the plotly package's full bundle otherwise; the browser part says which.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------ the store


def build_store(workdir: Path) -> Path:
    """Generate (once) and compile (incrementally) the benchmark dataset; returns the store."""
    from bench_compile import generate  # the compile benchmark, beside this file

    from ctsite.compile.build import compile_store
    from ctsite.compile.dataset import parse_data_spec
    from ctsite.config import load_settings

    started = time.perf_counter()
    data = workdir / "dataset-11x1000x10000x50000"
    print(f"dataset: the compile benchmark's generator, 11 × 1000 × 10000 × 50000 → {data}")
    config = generate(data, 11, 1000, 10000, 50000)
    print(f"  inputs ready in {time.perf_counter() - started:.1f} s")
    settings = load_settings(config_file=config, environ={})
    spec = parse_data_spec(settings.data, settings.root)
    started = time.perf_counter()
    result = compile_store(spec, settings.compiled_path, jobs=2)
    print(f"  store ready in {time.perf_counter() - started:.1f} s → {result.path}")
    return result.path


# ------------------------------------------------------------------ measurements


def bench_flask(store_path: Path, repeats: int) -> dict[str, float]:
    """In-process latency of /api/figure/<name> at default settings (Flask test client)."""
    from ctsite.config import load_settings
    from ctsite.figures import FIGURES
    from ctsite.store import Store
    from ctsite.web.app import create_app

    figures: dict[str, float] = {}
    root = Path(tempfile.mkdtemp())
    store = Store.open(store_path)
    cache_dir = store.figure_cache_dir()
    if cache_dir.is_dir():
        shutil.rmtree(cache_dir)  # no precomputed views: measure computing
    uncached = create_app(
        load_settings(root=root, environ={"CTSITE_SITE_CACHE_SIZE": "0"}), store_path
    )
    cached = create_app(load_settings(root=root, environ={}), store_path)
    print("\nfigure API at default settings (in-process, Flask test client):")
    print(
        f"  {'figure':<10}{'cold (ms)':>10}{'uncached p50':>14}{'p95':>8}{'cached p50':>12}{'p95':>8}"
    )
    for name in FIGURES:
        url = f"/api/figure/{name}"
        client = uncached.test_client()
        t0 = time.perf_counter()
        assert client.get(url).status_code == 200
        cold = (time.perf_counter() - t0) * 1000
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            r = client.get(url, headers={"Accept-Encoding": "gzip"})
            times.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200
        c = cached.test_client()
        c.get(url, headers={"Accept-Encoding": "gzip"})
        ctimes = []
        for _ in range(repeats * 5):
            t0 = time.perf_counter()
            r = c.get(url, headers={"Accept-Encoding": "gzip"})
            ctimes.append((time.perf_counter() - t0) * 1000)
        size = len(r.data)
        figures[f"{name}_uncached_p95_ms"] = p95(times)
        figures[f"{name}_cached_p95_ms"] = p95(ctimes)
        print(
            f"  {name:<10}{cold:>10.1f}{statistics.median(times):>14.1f}{p95(times):>8.1f}"
            f"{statistics.median(ctimes):>12.2f}{p95(ctimes):>8.2f}   ({size / 1024:.0f} KiB gzip)"
        )
    # every condition, uncached
    worst = 0.0
    for name, spec in FIGURES.items():
        control = next(c for c in spec.controls if c.kind == "condition")
        for cond in store.conditions:
            if control.single_condition_only and cond.kind != "single":
                continue
            client = uncached.test_client()
            times = []
            for _ in range(max(3, repeats // 4)):
                t0 = time.perf_counter()
                client.get(f"/api/figure/{name}", query_string={"condition": cond.name})
                times.append((time.perf_counter() - t0) * 1000)
            worst = max(worst, p95(times))
    print(f"  worst uncached p95 over every figure × condition: {worst:.1f} ms")
    figures["worst_uncached_p95_ms"] = worst
    return figures


def _start_gunicorn(store_path: Path, port: int, workers: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CTSITE_")}
    env["CTSITE_COMPILED_DIR"] = str(store_path)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            str(workers),
            "-k",
            "gthread",
            "--threads",
            "4",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "ctsite.web.app:create_app()",
        ],
        env=env,
        cwd=tempfile.mkdtemp(),
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("gunicorn did not start")


def _python_load(
    port: int, path: str, seconds: float, threads: int
) -> tuple[int, int, list[float]]:
    ok = errors = 0
    latencies: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker() -> None:
        nonlocal ok, errors
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine: list[float] = []
        good = bad = 0
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Accept-Encoding": "gzip"})
                r = conn.getresponse()
                r.read()
                good, bad = (good + 1, bad) if r.status == 200 else (good, bad + 1)
                if r.getheader("Connection", "").lower() == "close":
                    conn.close()
            except (OSError, http.client.HTTPException):
                bad += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            mine.append((time.perf_counter() - t0) * 1000)
        with lock:
            ok += good
            errors += bad
            latencies.extend(mine)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return ok, errors, latencies


def bench_gunicorn(store_path: Path, seconds: float) -> dict[str, float]:
    port = free_port()
    proc = _start_gunicorn(store_path, port, workers=2)
    out: dict[str, float] = {}
    try:
        path = "/api/figure/circos"
        for _ in range(4):  # warm every worker's cache
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}").read()
        print("\ngunicorn (2 gthread workers × 4 threads), cached /api/figure/circos, gzip:")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        single = []
        for _ in range(300):
            t0 = time.perf_counter()
            conn.request("GET", path, headers={"Accept-Encoding": "gzip"})
            response = conn.getresponse()
            response.read()
            single.append((time.perf_counter() - t0) * 1000)
        conn.close()
        print(
            f"  one client, sequential: p50 {statistics.median(single):.1f} ms,"
            f" p95 {p95(single):.1f} ms"
        )
        out["gunicorn_cached_single_p95_ms"] = p95(single)
        ab = shutil.which("ab")
        if ab:
            result = subprocess.run(
                [
                    ab,
                    "-k",
                    "-q",
                    "-t",
                    str(int(seconds)),
                    "-n",
                    "1000000",
                    "-c",
                    "16",
                    "-H",
                    "Accept-Encoding: gzip",
                    f"http://127.0.0.1:{port}{path}",
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            rps = failed = non2xx = 0.0
            for line in result.stdout.splitlines():
                if line.startswith("Requests per second:"):
                    rps = float(line.split()[3])
                elif line.startswith("Failed requests:"):
                    failed = float(line.split()[2])
                elif line.startswith("Non-2xx responses:"):
                    non2xx = float(line.split()[2])
            print(
                f"  ab -k -c 16 for {seconds:.0f} s: {rps:.0f} req/s, "
                f"{failed:.0f} failed, {non2xx:.0f} non-2xx"
            )
            out["gunicorn_ab_rps"] = rps
            out["gunicorn_ab_errors"] = failed + non2xx
        ok, errors, lat = _python_load(port, path, seconds, threads=16)
        rps = ok / seconds
        print(
            f"  python threads (16, keep-alive) for {seconds:.0f} s: {rps:.0f} req/s, "
            f"{errors} errors, latency p50 {statistics.median(lat):.1f} ms p95 {p95(lat):.1f} ms"
        )
        out["gunicorn_python_rps"] = rps
        out["gunicorn_python_errors"] = errors
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    return out


def bench_browser(store_path: Path) -> dict[str, float]:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("\nbrowser: playwright not installed, skipped")
        return {}
    if not Path(chromium).exists():
        print("\nbrowser: chromium not installed, skipped")
        return {}
    port = free_port()
    proc = _start_gunicorn(store_path, port, workers=2)
    out: dict[str, float] = {}
    try:
        args = [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ]
        from ctsite.web.assets import PARTIAL_BUNDLE

        bundle = "partial" if PARTIAL_BUNDLE.is_file() else "full (no partial bundle built)"
        print(
            "\nChromium, ms from page open: the figure shown (its static picture, first paint)"
            f"\nand the interactive figure drawn when the pointer is on it at once ({bundle}"
            " plotly.js bundle):"
        )
        shown_js = (
            "() => { const p = performance.getEntriesByType('paint')"
            ".find((e) => e.name === 'first-contentful-paint'); return p ? p.startTime : null; }"
        )
        drawn_js = (
            "() => document.getElementById('figure').dataset.ready"
            " && document.querySelector('#figure .main-svg')"
        )
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=args)
            for name in ("circos", "pairwise", "effects"):
                context = browser.new_context(viewport={"width": 1400, "height": 950})
                page = context.new_page()
                shown, drawn, parts = [], [], []
                for _ in range(3):  # the first in a fresh browser, then warm (cached scripts)
                    t0 = time.perf_counter()
                    page.goto(f"http://127.0.0.1:{port}/{name}", wait_until="commit")
                    page.wait_for_selector(
                        "#figure-static svg:visible, #figure-static img:visible", timeout=30000
                    )
                    page.wait_for_function(shown_js, timeout=30000)
                    shown.append(page.evaluate(shown_js))  # (page open = navigation start)
                    page.hover(".figure-wrap")
                    page.wait_for_function(drawn_js, timeout=30000)
                    drawn.append((time.perf_counter() - t0) * 1000)
                    parts.append(
                        page.evaluate(
                            "() => { const g = document.getElementById('figure').dataset;"
                            " const n = performance.getEntriesByType('navigation')[0];"
                            " return [g.fetchMs, g.renderMs, Math.round(n.domContentLoadedEventEnd)]; }"
                        )
                    )
                context.close()
                fetch_ms, render_ms, dom_ms = parts[0]
                print(
                    f"  {name:<10} shown: first {shown[0]:6.0f}  warm {min(shown[1:]):6.0f}"
                    f"   interactive: first {drawn[0]:6.0f}  warm {min(drawn[1:]):6.0f}"
                    f"   (first: page ready {dom_ms} ms, figure fetch {fetch_ms} ms,"
                    f" Plotly draw {render_ms} ms)"
                )
                out[f"{name}_page_first_ms"] = shown[0]
                out[f"{name}_page_warm_ms"] = min(shown[1:])
                out[f"{name}_interactive_first_ms"] = drawn[0]
                out[f"{name}_interactive_warm_ms"] = min(drawn[1:])
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, help="an existing compiled store")
    parser.add_argument("--workdir", type=Path, default=ROOT / "benchmarks" / "out" / "web")
    parser.add_argument("--requests", type=int, default=40, help="timed requests per figure")
    parser.add_argument("--seconds", type=float, default=10.0, help="load test duration")
    parser.add_argument(
        "--only", choices=["api", "gunicorn", "browser"], action="append", help="parts to run"
    )
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    store_path = (args.store or build_store(args.workdir)).resolve()
    from ctsite.figures.precomputed import precompute_defaults
    from ctsite.store import Store

    store = Store.open(store_path)
    rows = len(store.circos_table(store.default_condition().name, 0.25))
    print(
        f"store: {store_path}: {len(store.cell_types)} cell types, {rows} (cell type, target) rows"
    )
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (2 cores, shared: noisy)")
    parts = set(args.only or ["api", "gunicorn", "browser"])
    figures = bench_flask(store_path, args.requests) if "api" in parts else {}
    started = time.perf_counter()
    written = precompute_defaults(store)
    print(
        f"\nctsite figures: {len(written)} default views in {time.perf_counter() - started:.1f} s"
    )
    if "gunicorn" in parts:
        figures |= bench_gunicorn(store_path, args.seconds)
    if "browser" in parts:
        figures |= bench_browser(store_path)
    print("\n" + json.dumps({k: round(v, 2) for k, v in figures.items()}, indent=1))
    print("\ntargets:")
    checks = [
        ("uncached p95 < 300 ms (defaults)", "_uncached_p95_ms", lambda v: v < 300),
        ("cached p95 < 10 ms", "_cached_p95_ms", lambda v: v < 10),
        ("gunicorn ≥ 300 req/s", "_rps", lambda v: v >= 300),
        ("gunicorn 0 errors", "_errors", lambda v: v == 0),
        ("page open → figure shown < 1 s (fresh browser)", "_page_first_ms", lambda v: v < 1000),
        ("page open → figure shown < 300 ms (warm browser)", "_page_warm_ms", lambda v: v < 300),
        (
            "page open → interactive figure < 1 s (fresh browser, pointer on it at once)",
            "_interactive_first_ms",
            lambda v: v < 1000,
        ),
        (
            "page open → interactive figure < 300 ms (warm browser, pointer on it at once)",
            "_interactive_warm_ms",
            lambda v: v < 300,
        ),
    ]
    for label, suffix, ok in checks:
        values = {k: v for k, v in figures.items() if k.endswith(suffix) and not k.startswith("w")}
        if values:
            bad = [k for k, v in values.items() if not ok(v)]
            print(
                f"  {'PASS' if not bad else 'MISS'}  {label}"
                + (f"  ({', '.join(bad)})" if bad else "")
            )


if __name__ == "__main__":
    main()
