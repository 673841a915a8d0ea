"""Benchmark of the production image: size, build times, start-up and first responses.

Run as root on a machine with Docker (docker.io) and debootstrap:
    python benchmarks/bench_image.py
It makes the local base image (tests/support/make_base_image.sh, cached), builds the repository's
Dockerfile through `ctsite build-push --no-push` twice (the second build is the cached rebuild),
compiles the demo store, runs the image on it and times /healthz, / and the circos figure.
Prints one figure per line. Needs a running Docker engine (start dockerd first).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import docker
import requests

ROOT = Path(__file__).resolve().parents[1]
BASE = "ctsite-test-base:bookworm"
NAME = "ctsite-bench"


def run(*args: str, **env: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        args,
        cwd=ROOT,
        check=True,
        capture_output=True,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("CTSITE_")}, **env},
    )
    return time.perf_counter() - start


def build() -> float:
    return run(
        sys.executable, "-m", "ctsite", "build-push", "--no-push", "-q", "--prune",
        "--build-arg", f"BASE_IMAGE={BASE}", "--network", "host",
        CTSITE_IMAGE_NAME=NAME, CTSITE_IMAGE_REPOSITORY=f"127.0.0.1:9/{NAME}",
    )  # fmt: skip


def first_200(url: str, timeout: float = 120) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return time.perf_counter() - start
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{url} never answered 200")


def timed_get(url: str) -> tuple[float, int]:
    start = time.perf_counter()
    response = requests.get(url, timeout=60)
    response.raise_for_status()
    return time.perf_counter() - start, len(response.content)


def main() -> None:
    client = docker.from_env()
    print(f"base image: {run('sh', 'tests/support/make_base_image.sh', BASE):.1f} s")
    print(f"build (first in this run): {build():.1f} s")
    print(f"build (cached rebuild): {build():.1f} s")
    image = client.images.get(f"{NAME}:latest")
    print(f"image size: {image.attrs['Size'] / 1e6:.1f} MB uncompressed")
    layers = client.api.history(image.id)
    print(f"largest layer: {max(layer['Size'] for layer in layers) / 1e6:.1f} MB")
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        print(f"demo store: {run(sys.executable, '-m', 'ctsite', 'demo', str(data)):.1f} s")
        for path in [data, *data.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        container = client.containers.run(
            image.id,
            detach=True,
            ports={"8000/tcp": ("127.0.0.1", port)},
            volumes={str(data): {"bind": "/app/data", "mode": "ro"}},
        )
        try:
            base = f"http://127.0.0.1:{port}"
            print(f"start to first /healthz 200: {first_200(base + '/healthz'):.2f} s")
            for path in ("/", "/api/figure/circos", "/api/figure/circos"):
                seconds, size = timed_get(base + path)
                print(f"GET {path}: {seconds * 1000:.0f} ms ({size} bytes)")
            stats = container.stats(stream=False)
            print(f"container memory: {stats['memory_stats'].get('usage', 0) / 1e6:.0f} MB")
        finally:
            container.remove(force=True)
    for ref in [t for t in image.tags]:
        client.images.remove(ref)


if __name__ == "__main__":
    main()
