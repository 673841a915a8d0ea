"""Nothing a compile makes outlives it: its lock file goes on exit, and what a killed compile left
(temp version folders, temp pointers, the lock) is swept by the next compile of any kind, the
no-change run included, but only our own names and only when their process is gone. Also the
other small promises of `ctsite compile`'s neighbours: `ctsite demo` prints valid TOML, and
`ctsite export` into a closed pipe ends quietly."""

from __future__ import annotations

import os
import signal
import subprocess
import tomllib
from pathlib import Path

import pytest

from ctsite.store import versions
from tests.support import cli

EXIT_SIGPIPE = 128 + signal.SIGPIPE


def ctsite(root: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`ctsite ARGS` of this checkout in `root`, with no CTSITE_* variable of the caller."""
    return cli.run_ctsite(
        *args, cwd=root, env=cli.cli_env(without=("CTSITE_",), **{"COLUMNS": "200", **env})
    )


def test_a_compile_removes_its_lock_file(small_dataset) -> None:
    root = small_dataset()
    built = ctsite(root, "compile", "-q", "-j", "1")
    assert built.returncode == 0, built.stderr
    assert not (root / ".out.lock").exists()
    again = ctsite(root, "compile", "-j", "1")
    assert again.returncode == 0 and "up to date" in again.stdout, again.stderr
    assert not (root / ".out.lock").exists()
    assert sorted(p.name for p in root.iterdir() if p.name.startswith(".")) == []


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo dataset, compiled once."""
    root = tmp_path_factory.mktemp("demo")
    result = ctsite(root, "demo", str(root / "d"))
    assert result.returncode == 0, result.stderr
    return root / "d"


def _kill_mid_compile(demo: Path) -> int:
    """Start a forced compile (2 workers, 1-row blocks: slow), SIGKILL it while it writes its
    new version; returns its pid (now a dead process)."""
    proc = cli.start_ctsite(
        "-c", str(demo / "ctsite.toml"), "compile", "--force", "-q", "-j", "2",
        cwd=demo, env=cli.cli_env(without=("CTSITE_",), CTSITE_COMPILE_BLOCK_ROWS="1"),
    )  # fmt: skip
    try:
        cli.wait_while_running(
            proc,
            lambda: bool(list(demo.glob("compiled/versions/.tmp-*/conditions/c1"))),
            "the compile started writing its version",
        )
    finally:
        proc.kill()
        proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    return proc.pid


def test_what_a_killed_compile_left_is_swept_by_the_next_no_change_run(demo: Path) -> None:
    store = demo / "compiled"
    pointer = (store / "CURRENT").read_bytes()
    dead = _kill_mid_compile(demo)
    left = list((store / "versions").glob(f".tmp-*-{dead}"))
    assert left, "the killed compile left no temp version (the test killed it too late)"
    assert (demo / ".compiled.lock").exists()
    assert (store / "CURRENT").read_bytes() == pointer
    # a kill inside write_pointer (between its temp file and the rename) leaves this:
    (store / f".CURRENT.tmp-{dead}-0123abcd").write_bytes(pointer)
    # ... and these are not ours to delete: a live process's, and names we never make
    alive = os.getpid()
    kept = [
        store / f".CURRENT.tmp-{alive}-89abcdef",
        store / "versions" / f".tmp-v20240101T000000Z-00000000-0000-{alive}",
        store / "versions" / ".tmp-notes",
        store / ".CURRENT.tmp-mine",
        demo / ".compiled.lock.bak",
    ]
    for path in kept:
        if path.name.startswith(".tmp-v"):
            path.mkdir()
            (path / "data").write_text("in use")
        else:
            path.write_text("not yours")

    again = ctsite(demo, "-c", str(demo / "ctsite.toml"), "compile")

    assert again.returncode == 0, again.stderr
    assert "up to date" in again.stdout
    assert not any(p.exists() for p in left), "the dead compile's temp version is still there"
    assert not (store / f".CURRENT.tmp-{dead}-0123abcd").exists()
    assert not (demo / ".compiled.lock").exists()
    assert all(p.exists() for p in kept), [p for p in kept if not p.exists()]
    assert (store / "CURRENT").read_bytes() == pointer


def test_demo_prints_its_data_section_as_valid_toml(tmp_path: Path) -> None:
    """Printed on a narrow terminal, the example must still be the configuration it wrote."""
    result = ctsite(tmp_path, "demo", str(tmp_path / "d"), "--no-compile", COLUMNS="60")
    assert result.returncode == 0, result.stderr
    printed = result.stdout.split("to adapt for your own results:", 1)[1]
    written = tomllib.loads((tmp_path / "d" / "ctsite.toml").read_text())
    assert tomllib.loads(printed) == {"data": written["data"]}


def test_export_into_a_closed_pipe_ends_quietly(demo: Path) -> None:
    """`ctsite export … | head -1`: the reader is gone; no traceback, exit 141 like a Unix tool
    ended by SIGPIPE."""
    read, write = os.pipe()
    os.close(read)  # the reader has already gone: every write fails with EPIPE
    try:
        proc = cli.start_ctsite(
            "-c", str(demo / "ctsite.toml"), "export", "circos",
            cwd=demo, env=cli.cli_env(without=("CTSITE_",)), stdout=write,
        )  # fmt: skip
    finally:
        os.close(write)
    _, err = proc.communicate(timeout=120)
    assert err == "", err
    assert proc.returncode == EXIT_SIGPIPE


def test_export_into_head_through_a_shell(demo: Path) -> None:
    """The real pipeline: the first line arrives and nothing is printed on stderr."""
    command = " ".join(cli.ctsite_command("-c", str(demo / "ctsite.toml"), "export", "circos"))
    done = subprocess.run(
        ["sh", "-c", f"{command} | head -1"],
        cwd=demo, env=cli.cli_env(without=("CTSITE_",)), capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0
    assert done.stdout.startswith("kind,cell_type,target,")  # (the web CSV's columns)
    assert done.stderr == ""
    assert versions.read_pointer(demo / "compiled") is not None


@pytest.mark.parametrize(
    "args",
    [
        ("config",),
        ("config", "--json"),
        ("compile",),  # "up to date"
        ("export", "circos", "--format", "tsv"),
        ("--help",),
        ("--version",),
    ],
    ids=lambda a: " ".join(a),
)
def test_every_command_into_a_closed_pipe_ends_quietly(demo: Path, args: tuple[str, ...]) -> None:
    """`ctsite config | head -1` and the like: exit 141 and nothing on stderr, whichever command
    wrote (rich's own closed-pipe handling exits 1)."""
    read, write = os.pipe()
    os.close(read)
    try:
        proc = cli.start_ctsite(
            "-c", str(demo / "ctsite.toml"), *args,
            cwd=demo, env=cli.cli_env(without=("CTSITE_",)), stdout=write,
        )  # fmt: skip
    finally:
        os.close(write)
    _, err = proc.communicate(timeout=120)
    assert err == "", err
    assert proc.returncode == EXIT_SIGPIPE
