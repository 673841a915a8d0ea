"""The stop-signal rule of `ctsite.lifecycle`, in a real process receiving real signals."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

from tests.support.cli import cli_env

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


def run(outermost: bool) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT.format(outermost=outermost)],
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_after_a_stop_the_program_is_not_killed_by_a_later_signal() -> None:
    ended = run(outermost=True)
    assert ended.returncode == 130, ended.stderr
    assert "ended on its own terms" in ended.stdout


def test_an_inner_guard_gives_the_signals_back() -> None:
    killed = run(outermost=False)  # the previous (default) handlers are back: SIGTERM kills
    assert killed.returncode == -signal.SIGTERM
