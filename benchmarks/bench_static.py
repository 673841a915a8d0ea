"""Benchmark of the static site (`ctsite export-site`) at the study's scale.

    python benchmarks/bench_static.py [--types 11 --targets 1000 --genes 10000 --cells 50000]
                                      [--store COMPILED_DIR] [--changes 20] [--pages circos,...]

Compiles (once, cached under benchmarks/out/ with the compile benchmark's generator and the
real mouse ligand–receptor list) a study-scale store, or takes `--store`. Then prints, each
figure beside its target (issue 26):
- `ctsite export-site` of that store (a subprocess, as a user runs it): wall time (< 10 s);
- for each figure page, the bytes of data the engine fetches (files under data/) for the default
  view and then for control changes, as served and compressed with gzip (level 6, what a web
  server's on-the-fly compression uses) and brotli (quality 11, precompressed; when the python
  `brotli` module is installed) (target ≤ 2 MB compressed);
- in Chromium (Playwright), on the exported folder served by a plain static file server: the
  time from a control change (the form submitted) to the figure drawn (the page's mark, set
  once Plotly and the page's own layer drew; also until the next frame painted it) after the
  engine answered, over `--changes` changes per figure, p50/p95, split into the engine's answer
  (compute + its data) and Plotly's draw (the page's own `data-fetch-ms`/`data-render-ms`),
  without and with a 4× CPU slowdown (CDP Emulation.setCPUThrottlingRate)
  (targets: p95 < 100 ms, and < 400 ms at 4×), then the same split into the changes within a
  condition and the condition switches, which fetch that condition's data first (from the
  loopback server here: a real network adds its own time to those).
The machine may be shared: the load average is printed first so noisy figures can be judged.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gzip
import http.server
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
FIGURE_PAGES = ("circos", "pairwise", "effects")
EXPORT_SECONDS, DATA_BYTES, P95_MS, P95_SLOW_MS = 10.0, 2_000_000, 100.0, 400.0


def study_store(out: Path, types: int, targets: int, genes: int, cells: int) -> Path:
    """The compiled study-scale store (generated and compiled once, then reused)."""
    from benchmarks import bench_compile
    from ctsite.compile.build import compile_store
    from ctsite.compile.dataset import parse_data_spec
    from ctsite.config import load_settings

    directory = out / f"compile-{types}x{targets}x{genes}x{cells}"
    config = bench_compile.generate(directory, types, targets, genes, cells)
    settings = load_settings(config_file=config, environ={})
    spec = parse_data_spec(settings.data, settings.root)
    return compile_store(spec, settings.compiled_path, jobs=2).path


def env_without_ctsite() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CTSITE_")}
    env.update(PYTHONPATH=str(ROOT), COLUMNS="200")
    return env


def export(store: Path, site: Path) -> float:
    """`ctsite export-site` of the store into `site` (a subprocess); its wall time."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "ctsite", "export-site", str(site), "--data", str(store)],
        env=env_without_ctsite(),
        cwd=tempfile.gettempdir(),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def static_server(folder: Path) -> Iterator[str]:
    """A plain static file server (Python's http.server) on the folder; yields its base URL."""
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@functools.cache
def file_sizes(path: Path) -> tuple[int, int, int | None]:
    """One file's bytes as served, gzipped (level 6) and brotli'd (quality 11; None without
    the `brotli` module). Cached: a file is named by its content."""
    try:
        import brotli
    except ImportError:
        brotli = None
    body = path.read_bytes()
    br = len(brotli.compress(body, quality=11)) if brotli is not None else None
    return len(body), len(gzip.compress(body, compresslevel=6)), br


def compressed(paths: list[Path]) -> tuple[int, int, int | None]:
    """The files' bytes as served, gzipped and brotli'd (see `file_sizes`)."""
    sizes = [file_sizes(path) for path in paths]
    brs = [br for _, _, br in sizes]
    return (
        sum(raw for raw, _, _ in sizes),
        sum(gz for _, gz, _ in sizes),
        None if None in brs else sum(br for br in brs if br is not None),
    )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# The page's own form: every control's other values (selects' options, the number boxes' edges
# and middle), cycled; submitting the form is what a reader's change does.
CHANGES_JS = """
() => {
  const form = document.getElementById("controls");
  const out = [];
  for (const el of form.elements) {
    if (!el.name || el.disabled || el.type === "hidden") continue;
    if (el.tagName === "SELECT") {
      for (const o of el.options) if (o.value !== el.value) out.push([el.name, o.value]);
    } else if (el.type === "number") {
      const lo = Number(el.min || 0), hi = Number(el.max || lo + 1), now = Number(el.value);
      const mid = Number(((lo + hi) / 2).toFixed(2));
      for (const v of [lo, mid, now]) out.push([el.name, String(v)]);
    } else if (el.type === "checkbox") {
      out.push([el.name, el.checked ? "" : "on"]);
    }
  }
  return out;
}
"""

CHANGE_JS = """
async ([name, value]) => {
  const form = document.getElementById("controls");
  const gd = document.getElementById("figure");
  const el = form.elements[name];
  if (el.type === "checkbox") el.checked = value === "on"; else el.value = value;
  el.dispatchEvent(new Event("input", { bubbles: true }));
  const ready = gd.dataset.ready;
  const t0 = performance.now();
  // drawn: the page marked its draw as done (data-ready, set once Plotly and the page's own
  // layer drew: for a figure Plotly draws alone, the moment of its plotly_afterplot); painted:
  // then the browser painted it (a task queued from the next frame runs after the paint)
  let drawnAt = null;
  const painted = new Promise((resolve) => {
    const seen = new MutationObserver(() => {
      if (gd.dataset.ready === ready) return;
      seen.disconnect();
      drawnAt = performance.now();
      requestAnimationFrame(() => setTimeout(() => resolve(performance.now()), 0));
    });
    seen.observe(gd, { attributes: true, attributeFilter: ["data-ready"] });
  });
  form.requestSubmit();
  const t1 = await Promise.race([painted, new Promise((r) => setTimeout(() => r(null), 20000))]);
  const error = document.getElementById("figure-error");
  // the data files this change fetched, and when the last of them arrived
  const files = performance.getEntriesByType("resource")
    .filter((e) => e.name.includes("/data/") && e.startTime >= t0);
  const arrived = files.length ? Math.max(...files.map((e) => e.responseEnd)) - t0 : 0;
  return { ms: t1 === null ? null : drawnAt - t0, painted: t1 === null ? null : t1 - t0, fetch: Number(gd.dataset.fetchMs),
           render: Number(gd.dataset.renderMs), error: error.hidden ? "" : error.textContent,
           files: files.length, arrived };
}
"""


def browser_part(
    base: str, site: Path, pages: list[str], n_changes: int
) -> dict[str, dict[int, dict[str, Any]]]:
    """Per page: the data fetched (default view, then the changes) and the change timings."""
    from playwright.sync_api import sync_playwright

    results: dict[str, dict[int, dict[str, Any]]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        try:
            for name in pages:
                results[name] = {}
                for rate in (1, 4):
                    started = time.perf_counter()
                    results[name][rate] = one_page(browser, base, site, name, n_changes, rate)
                    print(
                        f"  {name} at {rate}× CPU: {time.perf_counter() - started:.0f} s",
                        flush=True,
                    )
        finally:
            browser.close()
    return results


def chromium() -> str | None:
    import shutil

    return shutil.which("chromium")


def one_page(browser: Any, base: str, site: Path, name: str, n: int, rate: int) -> dict[str, Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url) if "/data/" in r.url else None)
    cdp = context.new_cdp_session(page)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": rate})
    page.goto(f"{base}/{name}/", wait_until="load")
    page.focus("#controls select, #controls input")  # the first interaction: the default view
    page.wait_for_function("document.getElementById('figure').dataset.view === 'interactive'")
    default_files = sorted(set(fetched))
    changes = page.evaluate(CHANGES_JS)
    times, painted, fetch_ms, render_ms, errors, switches = [], [], [], [], [], []
    for i in range(n):
        change = changes[i % len(changes)]
        got = page.evaluate(CHANGE_JS, change)
        if got["ms"] is None or got["error"]:
            errors.append(f"{change}: {got['error'] or 'not drawn'}")
            continue
        times.append(got["ms"])
        painted.append(got["painted"])
        fetch_ms.append(got["fetch"])
        render_ms.append(got["render"])
        switches.append((got["arrived"], got["files"]) if change[0] == "condition" else None)
    all_files = sorted(set(fetched))
    context.close()
    local = lambda urls: [site / u.split(base + "/", 1)[1].split("?")[0] for u in urls]  # noqa: E731
    return {
        "default": compressed(local(default_files)),
        "all": compressed(local(all_files)),
        "n_default": len(default_files),
        "n_all": len(all_files),
        "times": times,
        "painted": painted,
        "fetch": fetch_ms,
        "render": render_ms,
        "switches": switches,
        "errors": errors,
    }


def mb(n: int | None) -> str:
    return "n/a" if n is None else f"{n / 1e6:.2f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--types", type=int, default=11)
    parser.add_argument("--targets", type=int, default=1000)
    parser.add_argument("--genes", type=int, default=10000)
    parser.add_argument("--cells", type=int, default=50000)
    parser.add_argument("--store", type=Path, help="a compiled store (skips the generator)")
    parser.add_argument("--changes", type=int, default=20, help="control changes per figure")
    parser.add_argument("--pages", default=",".join(FIGURE_PAGES))
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out")
    args = parser.parse_args()
    print(
        f"load average (1, 5, 15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
        f"on {os.cpu_count()} CPUs"
    )
    store = (
        args.store or study_store(args.out, args.types, args.targets, args.genes, args.cells)
    ).resolve()
    print(f"store: {store}")
    with tempfile.TemporaryDirectory(prefix="bench-static-") as temp:
        site = Path(temp) / "site"
        seconds = export(store, site)
        size = sum(p.stat().st_size for p in site.rglob("*") if p.is_file())
        print(
            f"ctsite export-site: {seconds:.2f} s (target < {EXPORT_SECONDS:.0f} s), "
            f"{size / 1e6:.1f} MB written"
        )
        try:
            import brotli  # noqa: F401
        except ImportError:
            print("  (the python `brotli` module is not installed: gzip sizes only)")
        with static_server(site) as base:
            results = browser_part(base, site, args.pages.split(","), args.changes)
    print("\ndata fetched by each figure page (files under data/: as served / gzip -6 / brotli 11)")
    for name, by_rate in results.items():
        r = by_rate[1]
        for label, key, count in (("default view", "default", "n_default"),
                                  (f"+ {args.changes} changes", "all", "n_all")):  # fmt: skip
            raw, gz, br = r[key]
            ok = "PASS" if min(gz, br or gz) <= DATA_BYTES else "MISS"
            print(
                f"  {ok}  {name:<9}{label:<14} {r[count]:>3} files {mb(raw):>10} "
                f"{mb(gz):>10} {mb(br):>10}  (target ≤ {DATA_BYTES / 1e6:.0f} MB compressed)"
            )
    print("\ncontrol change → figure redrawn (then painted), Chromium, ms")
    for name, by_rate in results.items():
        for rate, target in ((1, P95_MS), (4, P95_SLOW_MS)):
            r = by_rate[rate]
            if not r["times"]:
                print(f"  MISS  {name} {rate}×: nothing drawn ({'; '.join(r['errors'][:3])})")
                continue
            p95 = percentile(r["times"], 0.95)
            print(
                f"  {'PASS' if p95 < target else 'MISS'}  {name:<9} {rate}× CPU: "
                f"p50 {statistics.median(r['times']):6.1f}  p95 {p95:6.1f}  "
                f"(engine p50 {statistics.median(r['fetch']):.0f} / p95 "
                f"{percentile(r['fetch'], 0.95):.0f}, draw p50 {statistics.median(r['render']):.0f}"
                f" / p95 {percentile(r['render'], 0.95):.0f}) over {len(r['times'])} changes "
                f"(target p95 < {target:.0f})"
            )
            print(
                f"        painted: p50 {statistics.median(r['painted']):6.1f}  "
                f"p95 {percentile(r['painted'], 0.95):6.1f} (the next frame's paint as well)"
            )
            within = [t for t, sw in zip(r["times"], r["switches"], strict=True) if sw is None]
            switch = [
                (t, sw) for t, sw in zip(r["times"], r["switches"], strict=True) if sw is not None
            ]
            if within:
                print(
                    f"        within a condition: p50 {statistics.median(within):6.1f}  "
                    f"p95 {percentile(within, 0.95):6.1f} over {len(within)} changes"
                )
            if switch:
                print(
                    f"        condition switches: {', '.join(f'{t:.0f}' for t, _ in switch)} ms, "
                    f"of which the condition's data arrived after "
                    f"{', '.join(f'{sw[0]:.0f} ms ({sw[1]} files)' for _, sw in switch)}"
                )
            for error in r["errors"][:3]:
                print(f"        not drawn: {error}")


if __name__ == "__main__":
    main()
