"""Where `ctsite export` writes: a regular file is replaced whole (temp, verify, rename); anything
else at the path (a symbolic link, a named pipe, a character device) is written through, never
replaced; a folder, a missing folder or a full device is one line and a non-zero exit.

The character devices are made by the test in its own temp folder (`mknod`, as root): never
point `export -o` at the machine's own /dev entries.
"""

from __future__ import annotations

import io
import os
import pty
import stat
import subprocess
from pathlib import Path
from typing import IO

import pandas as pd
import pytest

from tests.support import cli
from tests.support.datasets import build_small_dataset


def ctsite(
    root: Path, *args: str, stdout: int | IO[bytes] = subprocess.PIPE
) -> subprocess.CompletedProcess[str]:
    """`ctsite ARGS` of this checkout in `root` (no CTSITE_* variable of the caller); its
    standard output captured, or sent to `stdout`."""
    env = cli.cli_env(without=("CTSITE_",), COLUMNS="200")
    return subprocess.run(
        cli.ctsite_command(*args), cwd=root, env=env, stdout=stdout, stderr=subprocess.PIPE,
        text=True, timeout=120,
    )  # fmt: skip


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small dataset, compiled once."""
    root = build_small_dataset(tmp_path_factory.mktemp("export") / "project")
    result = ctsite(root, "compile", "-q", "-j", "1")
    assert result.returncode == 0, result.stderr
    return root


@pytest.fixture(scope="module")
def expected(project: Path) -> bytes:
    """The CSV export, as written to standard output."""
    result = ctsite(project, "export", "circos")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("kind,cell_type,target,")  # (the web CSV's columns)
    return result.stdout.encode()


def assert_one_line(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode != 0, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines and lines[0].startswith("error: "), result.stderr
    assert len(lines) == 1 or (len(lines) == 2 and lines[1].startswith("hint: ")), lines
    assert "unexpected error" not in lines[0] and "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def test_a_regular_file_is_replaced_whole(project: Path, tmp_path: Path, expected: bytes) -> None:
    out = tmp_path / "circos.csv"
    out.write_text("an older export, longer than the new one\n" * 100)
    result = ctsite(project, "export", "circos", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == ["circos.csv"]  # no temp file left


def test_a_symbolic_link_is_written_through(project: Path, tmp_path: Path, expected: bytes) -> None:
    target = tmp_path / "real.csv"
    target.write_text("old\n")
    link = tmp_path / "latest.csv"
    link.symlink_to(target)
    result = ctsite(project, "export", "circos", "-o", str(link))
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == str(target)  # still the user's link
    assert target.read_bytes() == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest.csv", "real.csv"]


def test_a_dangling_symbolic_link_is_refused(project: Path, tmp_path: Path) -> None:
    link = tmp_path / "latest.csv"
    link.symlink_to(tmp_path / "gone" / "real.csv")
    result = ctsite(project, "export", "circos", "-o", str(link))
    assert_one_line(result, "latest.csv", "symbolic link")
    assert link.is_symlink() and sorted(p.name for p in tmp_path.iterdir()) == ["latest.csv"]


def test_a_named_pipe_is_written_through(project: Path, tmp_path: Path, expected: bytes) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # so the writer's open does not wait
    try:
        result = ctsite(project, "export", "circos", "-o", str(fifo))
        assert result.returncode == 0, result.stderr
        received = b""
        while chunk := os.read(reader, 1 << 16):
            received += chunk
    finally:
        os.close(reader)
    assert received == expected
    assert stat.S_ISFIFO(fifo.lstat().st_mode), "the named pipe was replaced"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


def _device(folder: Path, name: str, minor: int) -> Path:
    """A character device of the memory driver (1, minor) in `folder`: 3 is null, 7 is full."""
    if os.geteuid() != 0:
        pytest.skip("making a character device needs root")
    path = folder / name
    os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, minor))
    try:
        os.close(os.open(path, os.O_WRONLY))
    except OSError as exc:  # e.g. a folder mounted nodev
        pytest.skip(f"character devices cannot be opened here: {exc}")
    return path


def test_a_character_device_is_written_through(project: Path, tmp_path: Path) -> None:
    null = _device(tmp_path, "null", 3)
    result = ctsite(project, "export", "circos", "-o", str(null))
    assert result.returncode == 0, result.stderr
    assert stat.S_ISCHR(null.lstat().st_mode), "the device was replaced by a file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["null"]


def test_a_full_device_is_one_line_and_stays(project: Path, tmp_path: Path) -> None:
    full = _device(tmp_path, "full", 7)
    result = ctsite(project, "export", "circos", "-o", str(full))
    assert_one_line(result, "no space left", "full")
    assert "wrote" not in result.stderr
    assert stat.S_ISCHR(full.lstat().st_mode), "the device was replaced by a file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full"]


def test_a_folder_is_one_line(project: Path, tmp_path: Path) -> None:
    result = ctsite(project, "export", "circos", "-o", str(tmp_path))
    assert_one_line(result, str(tmp_path), "is a folder")
    assert list(tmp_path.iterdir()) == []


def test_a_missing_folder_is_one_line(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "missing" / "dir" / "x.csv"
    result = ctsite(project, "export", "circos", "-o", str(out))
    assert_one_line(result, str(tmp_path / "missing" / "dir"), "does not exist")
    assert list(tmp_path.iterdir()) == []


def test_parquet_to_a_redirected_stdout(project: Path, tmp_path: Path, expected: bytes) -> None:
    out = tmp_path / "x.parquet"
    with out.open("wb") as fh:
        result = ctsite(project, "export", "circos", "--format", "parquet", stdout=fh)
    assert result.returncode == 0, result.stderr
    frame = pd.read_parquet(out)
    pd.testing.assert_frame_equal(frame, pd.read_csv(io.BytesIO(expected)), check_dtype=False)


def test_parquet_to_a_terminal_is_refused(project: Path) -> None:
    main, terminal = pty.openpty()
    try:
        result = ctsite(project, "export", "circos", "--format", "parquet", stdout=terminal)
    finally:
        os.close(terminal)
        os.close(main)
    assert_one_line(result, "Parquet cannot be written to the terminal")
