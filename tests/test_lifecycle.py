"""The stop-signal rule of `ctsite.lifecycle`, in a real process receiving real signals."""

from __future__ import annotations

import signal
import subprocess
import textwrap
from pathlib import Path

from tests.support.cli import run_python

SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    from ctsite.lifecycle import stop_signals_interrupt
    try:
        with stop_signals_interrupt(outermost={outermost}):
            signal.raise_signal(signal.SIGINT)
    except KeyboardInterrupt:
        pass
    os.kill(os.getpid(), signal.SIGTERM)  # an impatient user's last signal, after the stop
    os.kill(os.getpid(), signal.SIGINT)
    print("ended on its own terms")
    sys.exit(130)
    """
)


def run(outermost: bool, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The script, run by this checkout's Python (tests/support/cli.py)."""
    return run_python("-c", SCRIPT.format(outermost=outermost), cwd=cwd, timeout=60)


def test_after_a_stop_the_program_is_not_killed_by_a_later_signal(tmp_path: Path) -> None:
    ended = run(outermost=True, cwd=tmp_path)
    assert ended.returncode == 130, ended.stderr
    assert "ended on its own terms" in ended.stdout


def test_an_inner_guard_gives_the_signals_back(tmp_path: Path) -> None:
    killed = run(
        outermost=False, cwd=tmp_path
    )  # the previous (default) handlers are back: SIGTERM kills
    assert killed.returncode == -signal.SIGTERM


INNER_STOP = textwrap.dedent(
    """
    import atexit, os, signal
    import ctsite.cli as cli
    from ctsite.lifecycle import stop_signals_interrupt

    @cli.app.command("stopped-inside")
    def stopped_inside() -> None:
        with stop_signals_interrupt():  # a command's own guard takes the Ctrl-C (the upload's)
            signal.raise_signal(signal.SIGINT)

    def impatient() -> None:  # the user's last SIGTERM, arriving as the program ends
        os.kill(os.getpid(), signal.SIGTERM)
        print("ended on its own terms", flush=True)

    atexit.register(impatient)
    cli.main(["stopped-inside"])
    """
)


def test_a_stop_taken_by_a_command_guard_still_protects_the_end(tmp_path: Path) -> None:
    """The CLI's own guard never saw the signal a command's guard turned into its stop; the
    program still ends on its own terms (130), not killed by a SIGTERM sent after it."""
    ended = run_python("-c", INNER_STOP, cwd=tmp_path, timeout=60)
    assert ended.returncode == 130, ended.stderr
    assert "ended on its own terms" in ended.stdout
    assert "stopped by Ctrl-C (SIGINT)" in ended.stderr
