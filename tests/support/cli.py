"""Every Python subprocess of the tests — `python -m ctsite`, gunicorn, a `-c` script — runs
THIS checkout's code, the way a user runs the command: build it here, never by hand.

`python -P` (no current folder on `sys.path`) with this checkout on PYTHONPATH: a subprocess
started in a temporary project folder finds neither an installed ctsite nor a `ctsite/` folder
of the project first. Whatever environment a caller gives, the helpers put the checkout on its
PYTHONPATH. tests/test_suite_hygiene.py fails on a test that starts Python another way.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Mapping
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


def _checkout_env(env: Mapping[str, str] | None) -> dict[str, str]:
    """`env` (default: `cli_env()`) with this checkout on PYTHONPATH, whoever built it."""
    return cli_env() if env is None else {**env, "PYTHONPATH": str(REPO)}


def python_command(*args: str) -> list[str]:
    """`python -P ARGS`: this interpreter, without the current folder on `sys.path` (give the
    process `cli_env()`, or start it with `run_python` / `start_python`)."""
    return [sys.executable, "-P", *args]


def ctsite_command(*args: str, blocked: tuple[str, ...] = ()) -> list[str]:
    """`python -m ctsite ARGS`; `blocked` modules cannot be imported in it (as if not
    installed: e.g. gunicorn, for the Werkzeug server)."""
    if not blocked:
        return python_command("-m", "ctsite", *args)
    block = f"import sys; sys.modules.update(dict.fromkeys({list(blocked)!r}))"
    return python_command("-c", f"{block}; from ctsite.cli import main; main()", *args)


def run_python(
    *args: str,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 180,
    **kwargs: Any,
) -> subprocess.CompletedProcess[str]:
    """Run `python ARGS` of this checkout in `cwd` to the end; its output captured as text."""
    return _run(python_command(*args), cwd=cwd, env=env, timeout=timeout, **kwargs)


def run_ctsite(
    *args: str,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 180,
    blocked: tuple[str, ...] = (),
    **kwargs: Any,
) -> subprocess.CompletedProcess[str]:
    """Run `ctsite ARGS` of this checkout in `cwd` to the end; its output captured as text."""
    return _run(ctsite_command(*args, blocked=blocked), cwd=cwd, env=env, timeout=timeout, **kwargs)


def _run(
    command: list[str], cwd: Path, env: Mapping[str, str] | None, timeout: float, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    kwargs.setdefault("capture_output", "stdout" not in kwargs and "stderr" not in kwargs)
    return subprocess.run(
        command, cwd=cwd, env=_checkout_env(env), text=True, timeout=timeout, **kwargs
    )


def start_python(
    *args: str,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    stdout: int | IO[Any] | None = subprocess.PIPE,
    stderr: int | IO[Any] | None = subprocess.PIPE,
    **kwargs: Any,
) -> subprocess.Popen[str]:
    """Start `python ARGS` of this checkout in `cwd` and return at once (text pipes)."""
    return _start(python_command(*args), cwd, env, stdout, stderr, **kwargs)


def start_ctsite(
    *args: str,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    stdout: int | IO[Any] | None = subprocess.PIPE,
    stderr: int | IO[Any] | None = subprocess.PIPE,
    blocked: tuple[str, ...] = (),
    **kwargs: Any,
) -> subprocess.Popen[str]:
    """Start `ctsite ARGS` of this checkout in `cwd` and return at once (text pipes)."""
    return _start(ctsite_command(*args, blocked=blocked), cwd, env, stdout, stderr, **kwargs)


def _start(
    command: list[str],
    cwd: Path,
    env: Mapping[str, str] | None,
    stdout: int | IO[Any] | None,
    stderr: int | IO[Any] | None,
    **kwargs: Any,
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        command, cwd=cwd, env=_checkout_env(env), stdout=stdout, stderr=stderr, text=True, **kwargs
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


def stop_process(proc: subprocess.Popen, timeout: float = 10) -> None:
    """End a server the test started: SIGTERM (its graceful stop), SIGKILL if it hangs."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


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


# ---------------------------------------------------------------- an installed ctsite


class Installed:
    """A ctsite installed elsewhere, e.g. a virtualenv made from the wheel (the journey of a lab,
    tests/distribution/): its commands run WITHOUT this checkout on PYTHONPATH, so what runs is
    the installed copy. The one deliberate exception to this module's rule; every other test
    runs the checkout."""

    def __init__(self, venv: Path) -> None:
        self.venv = venv
        self.bin = venv / "bin"

    def env(self, base: Mapping[str, str] | None = None, **extra: str) -> dict[str, str]:
        """`base` (default: this process's environment) without PYTHONPATH, the virtualenv's
        bin/ first on PATH, plus `extra`."""
        env = {k: v for k, v in (os.environ if base is None else base).items()}
        env.pop("PYTHONPATH", None)
        env["PATH"] = f"{self.bin}{os.pathsep}{env.get('PATH', '')}"
        env["VIRTUAL_ENV"] = str(self.venv)
        env.update(extra)
        return env

    def run_ctsite(
        self,
        *args: str,
        cwd: Path,
        env: Mapping[str, str] | None = None,
        timeout: float = 180,
        **kwargs: Any,
    ) -> subprocess.CompletedProcess[str]:
        """The installed `ctsite ARGS` console script, run in `cwd` to the end (text output)."""
        kwargs.setdefault("capture_output", "stdout" not in kwargs and "stderr" not in kwargs)
        return subprocess.run(
            [str(self.bin / "ctsite"), *args],
            cwd=cwd, env=self.env(env), text=True, timeout=timeout, **kwargs,
        )  # fmt: skip

    def start_ctsite(
        self,
        *args: str,
        cwd: Path,
        env: Mapping[str, str] | None = None,
        stdout: int | IO[Any] | None = subprocess.PIPE,
        stderr: int | IO[Any] | None = subprocess.PIPE,
    ) -> subprocess.Popen[str]:
        """Start the installed `ctsite ARGS` in `cwd` and return at once (text pipes)."""
        return subprocess.Popen(
            [str(self.bin / "ctsite"), *args],
            cwd=cwd, env=self.env(env), stdout=stdout, stderr=stderr, text=True,
        )  # fmt: skip

    def run_python(
        self,
        *args: str,
        cwd: Path,
        env: Mapping[str, str] | None = None,
        timeout: float = 180,
    ) -> subprocess.CompletedProcess[str]:
        """The virtualenv's `python -P ARGS` in `cwd` (output captured as text)."""
        return subprocess.run(
            [str(self.bin / "python"), "-P", *args],
            cwd=cwd, env=self.env(env), text=True, timeout=timeout, capture_output=True,
        )  # fmt: skip
