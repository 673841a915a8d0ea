"""Lighthouse scores of the site as it runs in production: Home and the three figure pages.

    python benchmarks/bench_lighthouse.py [--mode auto|docker|gunicorn] [--image IMAGE]
                                          [--store DIR] [--runs N] [--pages home,circos,...]
    python benchmarks/bench_lighthouse.py --static SITE_DIR [--static-server python|nginx]

Serves the demo store (`ctsite demo`) the way the image does: `ctsite docker-run` of the
production image when a Docker engine answers and the image exists (`--mode docker`, build it
with `ctsite build-push --no-push`), otherwise gunicorn with the image's command line
(`--mode gunicorn`). Lighthouse 12 comes from the npm registry (installed once into
benchmarks/out/lighthouse) and drives Debian's Chromium headless with its default mobile
settings (simulated slow 4G, 4× CPU slowdown). Each page runs `--runs` times; the run with the
median performance score is reported. Targets (issue 15): performance ≥ 0.95, accessibility 1.0,
best practices 1.0, total blocking time < 200 ms, cumulative layout shift < 0.05.

`--static SITE_DIR` measures a static site instead (`ctsite export-site SITE_DIR`, issue 26):
the folder is served by a plain static file server, Python's `http.server` (what the archive's
README tells a reader to run; no compression) or, with `--static-server nginx`, nginx with gzip
on (as GitHub Pages or a CDN serve it); the pages are `/`, `/circos/`, `/pairwise/`, `/effects/`.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIGHTHOUSE_VERSION = "12"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PAGES = {"home": "/", "circos": "/circos", "pairwise": "/pairwise", "effects": "/effects"}
STATIC_PAGES = {name: path if name == "home" else f"{path}/" for name, path in PAGES.items()}
NGINX_STATIC = """
daemon off; worker_processes 1; pid {work}/nginx.pid; error_log {work}/nginx-error.log;
events {{}}
http {{
 include /etc/nginx/mime.types; access_log off;
 client_body_temp_path {work}/nginx-body; proxy_temp_path {work}/nginx-proxy;
 fastcgi_temp_path {work}/nginx-fcgi; uwsgi_temp_path {work}/nginx-uwsgi;
 scgi_temp_path {work}/nginx-scgi;
 types {{ application/vnd.apache.arrow.file arrow; application/octet-stream npy; }}
 server {{
  listen 127.0.0.1:{port}; root {site};
  gzip on; gzip_comp_level 4;
  gzip_types text/css application/javascript application/json image/svg+xml
             application/vnd.apache.arrow.file application/octet-stream;
 }}
}}
"""
TARGETS = {"performance": 0.95, "accessibility": 1.0, "best-practices": 1.0}
TBT_MS, CLS = 200.0, 0.05


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env_without_ctsite(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CTSITE_")}
    env.update(PYTHONPATH=str(ROOT), COLUMNS="200", PYTHONUNBUFFERED="1", **extra)
    return env


def demo_data(workdir: Path) -> Path:
    """A data folder whose `compiled/` is the demo store (written once)."""
    from ctsite.store.versions import manifest_path

    data = workdir / "demo-data"
    if not manifest_path(data / "compiled").is_file():
        subprocess.run(
            [sys.executable, "-m", "ctsite", "demo", str(data)],
            env=env_without_ctsite(),
            check=True,
        )
    for path in [data, *data.rglob("*")]:  # the container runs as uid 10001
        path.chmod(0o755 if path.is_dir() else 0o644)
    return data


def lighthouse_bin(workdir: Path) -> Path:
    """Lighthouse from the npm registry, installed once beside the benchmark's output."""
    target = workdir / "lighthouse"
    binary = target / "node_modules" / ".bin" / "lighthouse"
    if not binary.exists():
        if shutil.which("npm") is None:
            raise SystemExit("npm is not installed: cannot install Lighthouse")
        target.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", f"lighthouse@{LIGHTHOUSE_VERSION}"],
            cwd=target,
            check=True,
        )
    return binary


def wait_healthy(base: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"{base} did not become healthy within {timeout:.0f} s")


def docker_ready(image: str) -> bool:
    try:
        import docker

        client = docker.from_env(timeout=10)
        client.images.get(image)
        return True
    except Exception:
        return False


def start_docker(image: str, data: Path, port: int, log: Path) -> subprocess.Popen:
    """`ctsite docker-run`: the production image on the data folder, healthy when it prints
    (the container's own output goes to `log`)."""
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "ctsite", "docker-run", "--image", image),
            *("--data", str(data), "--port", str(port)),
        ],
        env=env_without_ctsite(),
        stdout=subprocess.PIPE,
        stderr=log.open("w"),
        text=True,
    )
    deadline = time.monotonic() + 180
    line = ""
    while "site running at" not in line:
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise SystemExit("ctsite docker-run did not report a running site")
        ready, _, _ = select.select([proc.stdout], [], [], 1)
        if ready:
            line = proc.stdout.readline()  # type: ignore[union-attr]
    return proc


def start_gunicorn(data: Path, port: int) -> subprocess.Popen:
    """gunicorn with the image's command line (2 workers × 4 threads) on the demo store."""
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}"),
            *("--workers", "2", "--threads", "4", "--timeout", "60", "--log-level", "warning"),
            "ctsite.web.app:create_app()",
        ],
        env=env_without_ctsite(CTSITE_COMPILED_DIR=str(data / "compiled")),
        cwd=tempfile.mkdtemp(),
    )
    return proc


def start_static(site: Path, port: int, server: str, workdir: Path) -> subprocess.Popen:
    """A plain static file server on the exported folder (see the module docstring)."""
    if server == "nginx":
        conf = workdir / "nginx-static.conf"
        conf.write_text(NGINX_STATIC.format(work=workdir, port=port, site=site))
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        return subprocess.Popen([nginx, "-c", str(conf), "-e", str(workdir / "nginx-error.log")])
    return subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "-d", str(site)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_serving(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} was not served within {timeout:.0f} s")


def run_lighthouse(binary: Path, url: str, out: Path, attempts: int = 2) -> dict:
    """One Lighthouse run (retried once: Chromium sometimes loses the trace, NO_NAVSTART)."""
    for attempt in range(attempts):
        try:
            return lighthouse_once(binary, url, out)
        except subprocess.CalledProcessError:
            if attempt == attempts - 1:
                raise
            print(f"  Lighthouse failed on {url}; running it again")
    raise AssertionError("unreachable")


def lighthouse_once(binary: Path, url: str, out: Path) -> dict:
    subprocess.run(
        [
            *(str(binary), url, "--quiet", "--output=json", f"--output-path={out}"),
            "--only-categories=performance,accessibility,best-practices",
            "--chrome-flags=--headless --no-sandbox --disable-gpu",
        ],
        env={**os.environ, "CHROME_PATH": CHROMIUM},
        check=True,
        timeout=300,
    )
    return json.loads(out.read_text())


def summary(report: dict) -> dict[str, float]:
    cats, audits = report["categories"], report["audits"]
    row = {name: float(cats[name]["score"] or 0) for name in TARGETS}
    for key, audit in (
        ("fcp_ms", "first-contentful-paint"),
        ("lcp_ms", "largest-contentful-paint"),
        ("tbt_ms", "total-blocking-time"),
        ("cls", "cumulative-layout-shift"),
    ):
        row[key] = float(audits[audit]["numericValue"])
    failing = [
        a["id"]
        for a in audits.values()
        if a.get("scoreDisplayMode") == "binary" and a.get("score") == 0
    ]
    row["failing"] = ", ".join(sorted(failing))  # type: ignore[assignment]
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["auto", "docker", "gunicorn"], default="auto")
    parser.add_argument("--image", default="ct-site:latest", help="image for --mode docker")
    parser.add_argument("--store", type=Path, help="a data folder holding compiled/")
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs per page")
    parser.add_argument("--pages", default=",".join(PAGES), help="comma-separated page names")
    parser.add_argument("--workdir", type=Path, default=ROOT / "benchmarks" / "out" / "lighthouse")
    parser.add_argument("--static", type=Path, help="an exported static site (export-site)")
    parser.add_argument("--static-server", choices=["python", "nginx"], default="python")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    binary = lighthouse_bin(args.workdir)
    mode = args.mode
    if args.static:
        mode = f"static ({args.static_server})"
    elif mode == "auto":
        mode = "docker" if docker_ready(args.image) else "gunicorn"
    pages = STATIC_PAGES if args.static else PAGES
    port = free_port()
    print(f"uptime: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1/5 min load, 2 cores)")
    if args.static:
        site = args.static.resolve()
        if not (site / "index.html").is_file():
            raise SystemExit(f"{site} is not an exported site (no index.html): ctsite export-site")
        print(f"serving the static site {site} with {args.static_server}")
        proc = start_static(site, port, args.static_server, args.workdir)
    elif mode == "docker":
        data = args.store.resolve() if args.store else demo_data(args.workdir)
        print(f"serving {data} with `ctsite docker-run --image {args.image}`")
        proc = start_docker(args.image, data, port, args.workdir / "docker-run.log")
    else:
        data = args.store.resolve() if args.store else demo_data(args.workdir)
        print(f"serving {data} with gunicorn (no Docker image {args.image} in use)")
        proc = start_gunicorn(data, port)
    base = f"http://127.0.0.1:{port}"
    rows: dict[str, dict] = {}
    try:
        if args.static:
            wait_serving(base + "/")
        else:
            wait_healthy(base)
        for name in args.pages.split(","):
            urllib.request.urlopen(base + pages[name]).read()  # warm the figure cache
            runs = [
                summary(
                    run_lighthouse(binary, base + pages[name], args.workdir / f"{name}-{i}.json")
                )
                for i in range(args.runs)
            ]
            runs.sort(key=lambda r: r["performance"])
            rows[name] = runs[len(runs) // 2]
            perf = ", ".join(f"{r['performance']:.2f}" for r in runs)
            print(f"  {name}: performance of each run {perf}")
    finally:
        proc.send_signal(signal.SIGINT if mode == "docker" else signal.SIGTERM)  # (its own)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
    print(
        f"\nLighthouse {LIGHTHOUSE_VERSION}, mobile defaults, {mode}, median of {args.runs} run(s)"
    )
    print(
        f"  {'page':<10}{'perf':>6}{'a11y':>6}{'best':>6}{'FCP ms':>8}{'LCP ms':>8}"
        f"{'TBT ms':>8}{'CLS':>7}   failing audits"
    )
    for name, r in rows.items():
        print(
            f"  {name:<10}{r['performance']:>6.2f}{r['accessibility']:>6.2f}"
            f"{r['best-practices']:>6.2f}{r['fcp_ms']:>8.0f}{r['lcp_ms']:>8.0f}"
            f"{r['tbt_ms']:>8.0f}{r['cls']:>7.3f}   {r['failing']}"
        )
    print("\ntargets:")
    checks = [
        (f"performance ≥ {TARGETS['performance']}", lambda r: r["performance"] >= 0.95),
        ("accessibility = 1.0", lambda r: r["accessibility"] >= 1.0),
        ("best practices = 1.0", lambda r: r["best-practices"] >= 1.0),
        (f"total blocking time < {TBT_MS:.0f} ms", lambda r: r["tbt_ms"] < TBT_MS),
        (f"cumulative layout shift < {CLS}", lambda r: r["cls"] < CLS),
    ]
    for label, ok in checks:
        bad = [name for name, r in rows.items() if not ok(r)]
        print(
            f"  {'PASS' if not bad else 'MISS'}  {label}" + (f"  ({', '.join(bad)})" if bad else "")
        )


if __name__ == "__main__":
    main()
