"""A plain static file server (`python -m http.server`) over a folder, as a static host serves
an exported site: the tests of the static site and of the browser engine serve their files
with it."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from tests.support.cli import start_python, stop_process, wait_while_running


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def answers(url: str) -> bool:
    """Whether `url` answers at all (any status but a refused connection)."""
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def static_host(root: Path, port: int | None = None) -> Iterator[str]:
    """`python -m http.server` over `root` until the block ends; yields its base URL
    (`http://127.0.0.1:PORT/`) once it answers."""
    port = port or free_port()
    proc = start_python(
        "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(root),
        cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}/"
    try:
        wait_while_running(proc, lambda: answers(base), "the static server answers", timeout=30)
        yield base
    finally:
        stop_process(proc)
