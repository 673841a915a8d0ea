"""`ctsite serve` in a real subprocess on loopback: gunicorn (as in the image) or, where gunicorn
cannot be imported, Werkzeug's threaded server; a clean start-up line, no development-server
warning, /healthz answering, and a clean stop on Ctrl-C (SIGINT)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.cli import cli_env, run_ctsite, wait_healthy

NO_GUNICORN = "import sys; sys.modules['gunicorn'] = None; from ctsite.cli import main; main()"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("serve")
    done = run_ctsite("demo", str(root / "demo"), cwd=root, timeout=300)
    assert done.returncode == 0, done.stderr
    return root / "demo" / "compiled"


def serve(
    store: Path,
    *args: str,
    python_args: tuple[str, ...] = ("-m", "ctsite"),
    while_up: Callable[[], None] = lambda: None,
    **env: str,
) -> tuple:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, *python_args, "serve", "--port", str(port), "--data", str(store), *args],
        cwd=store.parent,
        env=cli_env(without=("CTSITE_",), **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    body = wait_healthy(proc, port) or b""
    while_up()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    return port, body, proc.returncode, out, err


@pytest.mark.parametrize(
    ("python_args", "server"),
    [(("-m", "ctsite"), "gunicorn"), (("-c", NO_GUNICORN), "Werkzeug")],
)
def test_serve_answers_without_a_development_server_warning(
    demo_store: Path, python_args: tuple[str, ...], server: str
) -> None:
    port, body, code, out, err = serve(demo_store, python_args=python_args)
    assert b'"status":"ok"' in body.replace(b" ", b""), (out, err)
    assert f"at http://127.0.0.1:{port}/ ({server}; Ctrl+C to stop)" in out
    assert "development server" not in out + err
    assert "Traceback" not in err
    assert code in (0, 130), err


def test_serve_port_out_of_range_is_refused(demo_store: Path) -> None:
    done = run_ctsite(
        "serve", "--port", "99999", "--data", str(demo_store), cwd=demo_store.parent, timeout=60
    )
    assert done.returncode == 2
    assert "serve_port = 99999 is out of range (valid: 1..65535)" in done.stderr
    assert "Serving" not in done.stdout


def test_serve_opens_no_gunicorn_control_socket(demo_store: Path, tmp_path: Path) -> None:
    """gunicorn >= 25.1 opens $HOME/.gunicorn/gunicorn.ctl unless told not to (as the image)."""
    sockets: list[str] = []

    def look() -> None:
        sockets.extend(Path("/proc/net/unix").read_text().splitlines())

    _, body, _, out, err = serve(demo_store, while_up=look, HOME=str(tmp_path))
    assert b'"status":"ok"' in body.replace(b" ", b""), (out, err)
    assert sockets, "no socket table read"
    assert not [line for line in sockets if str(tmp_path) in line], "a control socket was opened"
    assert not (tmp_path / ".gunicorn").exists()
