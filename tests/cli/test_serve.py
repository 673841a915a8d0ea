"""`ctsite serve` in a real subprocess on loopback: gunicorn (as in the image) or, where gunicorn
cannot be imported, Werkzeug's threaded server; a clean start-up line, no development-server
warning, /healthz answering, and a clean stop on Ctrl-C (SIGINT)."""

from __future__ import annotations

import signal
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.cli import cli_env, run_ctsite, start_ctsite, wait_healthy, wait_while_running

# (modules blocked in the process, the server it runs): gunicorn, as in the image, or Werkzeug
SERVERS = [((), "gunicorn"), (("gunicorn",), "Werkzeug")]


def free_port(host: str = "127.0.0.1") -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as s:
        s.bind((host, 0))
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
    blocked: tuple[str, ...] = (),
    while_up: Callable[[subprocess.Popen[str]], None] = lambda proc: None,
    host: str = "127.0.0.1",
    **env: str,
) -> tuple:
    port = free_port(host)
    where = ("--host", host, "--port", str(port))
    proc = start_ctsite(
        *("serve", *where, "--data", str(store), *args),
        cwd=store.parent,
        env=cli_env(without=("CTSITE_",), **env),
        blocked=blocked,
    )
    body = wait_healthy(proc, port, host=host) or b""
    while_up(proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    return port, body, proc.returncode, out, err


@pytest.mark.parametrize(("blocked", "server"), SERVERS)
def test_serve_answers_without_a_development_server_warning(
    demo_store: Path, blocked: tuple[str, ...], server: str
) -> None:
    port, body, code, out, err = serve(demo_store, blocked=blocked)
    assert b'"status":"ok"' in body.replace(b" ", b""), (out, err)
    assert f"at http://127.0.0.1:{port}/ ({server}; Ctrl+C to stop)" in out
    assert "development server" not in out + err
    assert "Traceback" not in err
    assert code in (0, 130), err


@pytest.mark.parametrize(("blocked", "server"), SERVERS)
def test_serve_listens_on_an_ipv6_address(
    demo_store: Path, blocked: tuple[str, ...], server: str
) -> None:
    """`--host ::1` listens on IPv6 loopback and announces the address in URL form."""
    port, body, code, out, err = serve(demo_store, blocked=blocked, host="::1")
    assert b'"status":"ok"' in body.replace(b" ", b""), (out, err)
    assert f"at http://[::1]:{port}/ ({server}; Ctrl+C to stop)" in out
    assert "Traceback" not in err
    assert code in (0, 130), err


def test_serve_reload_answers(demo_store: Path) -> None:
    """`--reload`: Werkzeug's reloader binds the address, and the server it restarts serves."""
    port, body, code, out, err = serve(demo_store, "--reload")
    assert b'"status":"ok"' in body.replace(b" ", b""), (out, err)
    assert f"at http://127.0.0.1:{port}/ (Werkzeug, reloading; Ctrl+C to stop)" in out
    assert out.count("Serving") == 1  # not again in the reloader's child
    assert "Traceback" not in err and "cannot listen" not in err
    assert code in (0, 130), err


@pytest.mark.parametrize(("blocked", "server"), SERVERS)
def test_serve_open_opens_the_site_once_it_listens(
    demo_store: Path, tmp_path: Path, blocked: tuple[str, ...], server: str
) -> None:
    """`--open` hands the site's address to the web browser ($BROWSER, as webbrowser reads it)."""
    opened = tmp_path / "opened"
    browser = tmp_path / "browser"
    browser.write_text(f'#!/bin/sh\necho "$1" > "{opened}"\n')
    browser.chmod(0o755)

    def opened_once(proc: subprocess.Popen[str]) -> None:
        wait_while_running(proc, opened.exists, "the browser opened")

    port, body, code, out, err = serve(
        demo_store, "--open", blocked=blocked, while_up=opened_once,
        BROWSER=f"{browser} %s",
    )  # fmt: skip
    assert b'"status":"ok"' in body.replace(b" ", b""), (out, err)
    assert opened.read_text().strip() == f"http://127.0.0.1:{port}/"
    assert code in (0, 130), err


def test_serve_on_a_busy_port_is_one_clear_line(demo_store: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = run_ctsite(
            "serve", "--port", str(port), "--data", str(demo_store), cwd=demo_store.parent,
            timeout=60,
        )  # fmt: skip
    assert done.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr and "Serving" not in done.stdout


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

    def look(_proc: subprocess.Popen[str]) -> None:
        sockets.extend(Path("/proc/net/unix").read_text().splitlines())

    _, body, _, out, err = serve(demo_store, while_up=look, HOME=str(tmp_path))
    assert b'"status":"ok"' in body.replace(b" ", b""), (out, err)
    assert sockets, "no socket table read"
    assert not [line for line in sockets if str(tmp_path) in line], "a control socket was opened"
    assert not (tmp_path / ".gunicorn").exists()
