"""`python -m ctsite` as a subprocess, the way a user runs it, for the command-line tests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import pytest

REPO = Path(__file__).resolve().parents[2]


def cli_env(*, without: tuple[str, ...] = (), **extra: str) -> dict[str, str]:
    """This process's environment for a ctsite subprocess: this checkout on PYTHONPATH, no
    variable whose name starts with one of `without`, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not (without and k.startswith(without))}
    env.update(PYTHONPATH=str(REPO), **extra)
    return env


def ctsite_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "ctsite", *args]


def run_ctsite(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 180, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    """Run `ctsite ARGS` in `cwd` to the end; its output captured as text."""
    return subprocess.run(
        ctsite_command(*args),
        cwd=cwd,
        env=cli_env() if env is None else env,
        capture_output=True,
        text=True,
        timeout=timeout,
        **kwargs,
    )


def start_ctsite(
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    stdout: int | IO[Any] | None = subprocess.PIPE,
    stderr: int | IO[Any] | None = subprocess.PIPE,
) -> subprocess.Popen[str]:
    """Start `ctsite ARGS` in `cwd` and return at once (text pipes)."""
    return subprocess.Popen(
        ctsite_command(*args),
        cwd=cwd,
        env=cli_env() if env is None else env,
        stdout=stdout,
        stderr=stderr,
        text=True,
    )


def wait_healthy(
    proc: subprocess.Popen, port: int, timeout: float = 60, host: str = "127.0.0.1"
) -> bytes | None:
    """The body of the server's first /healthz answer on `host`:`port`; None when `proc` ended
    first or `timeout` seconds passed."""
    shown = f"[{host}]" if ":" in host else host
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://{shown}:{port}/healthz", timeout=2) as r:
                return r.read()
        except OSError:
            if proc.poll() is not None:
                return None
            time.sleep(0.2)
    return None


def wait_while_running(
    proc: subprocess.Popen, done: Callable[[], bool], what: str, timeout: float = 60
) -> None:
    """Poll `done()` until it holds; fail the test when `proc` ends first or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if done():
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    pytest.fail(f"{what} within {timeout:g} s")


def invoke_until_stopped(args: list[str], obj: dict[str, Any]) -> Any:
    """`CliRunner().invoke(app, args, obj=obj)` for a command a stop signal ends: the
    `Stopped` it raises (which `ctsite.cli.main` turns into one line and exit 130/143) is
    rendered the same way inside the runner, so the result keeps the command's output."""
    import click
    import typer
    from click.testing import CliRunner

    from ctsite.cli import Stopped, app
    from ctsite.cli.console import print_error
    from ctsite.errors import CtsiteError

    command = typer.main.get_command(app)

    @click.command(context_settings={"ignore_unknown_options": True})
    @click.argument("argv", nargs=-1, type=click.UNPROCESSED)
    @click.pass_obj
    def as_main(given: dict[str, Any], argv: tuple[str, ...]) -> None:
        try:
            command.main(list(argv), prog_name="ctsite", obj=given, standalone_mode=False)
        except Stopped as stop:
            print_error(CtsiteError(stop.message))
            raise SystemExit(stop.exit_code) from None

    return CliRunner().invoke(as_main, args, obj=obj)
