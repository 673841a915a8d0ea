"""The store's write lock and the sweep of what killed compiles left (`destination`,
`leftovers`): only our own names, only when their process is gone; the lock file goes with its
holder and a lock on a file its holder just removed is never taken for the lock."""

from __future__ import annotations

import fcntl
import os
import subprocess
from pathlib import Path

import pytest

from ctsite.compile import destination, leftovers
from ctsite.errors import CtsiteError
from ctsite.store import versions


@pytest.fixture(scope="module")
def dead_pid() -> int:
    """The id of a process that has ended (and been reaped)."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    assert not leftovers.process_alive(proc.pid)
    return proc.pid


def test_sweep_removes_only_dead_owners_files_of_our_names(tmp_path: Path, dead_pid: int) -> None:
    dest = tmp_path / "store"
    (dest / "versions").mkdir(parents=True)
    me = os.getpid()
    version = "v20240101T000000Z-0123abcd-00ff"
    doomed = [
        dest / "versions" / leftovers.temp_version_name(version, dead_pid),
        dest / f".CURRENT.tmp-{dead_pid}-0a1b2c3d",
        tmp_path / f".store.tmp-{dead_pid}",  # a flat store's conversion
        tmp_path / f".store.old-{dead_pid}",
    ]
    kept = [
        dest / "versions" / leftovers.temp_version_name(version, me),  # a live process's
        dest / versions.temp_pointer_name(me),
        tmp_path / f".store.tmp-{me}",
        dest / "versions" / ".tmp-notes",  # names we never make
        dest / "versions" / f".tmp-{dead_pid}",
        dest / ".CURRENT.tmp-old",
        tmp_path / f".store.tmp-{dead_pid}.bak",
        tmp_path / f".other.tmp-{dead_pid}",
        dest / "versions" / version,  # a real version
    ]
    for path in doomed + kept:
        if path.name.startswith(".CURRENT"):
            path.write_text("x")
        else:
            path.mkdir()
            (path / "file").write_text("x")

    removed = leftovers.sweep(dest)

    assert sorted(removed) == sorted(doomed)
    assert not any(p.exists() for p in doomed)
    assert all(p.exists() for p in kept)


def test_the_lock_file_goes_with_its_holder(tmp_path: Path) -> None:
    dest = tmp_path / "new" / "deeper" / "store"
    with destination.lock(dest):
        assert destination.lock_path(dest).is_file()
        with pytest.raises(CtsiteError, match="another compile is writing"), destination.lock(dest):
            pass
        assert destination.lock_path(dest).is_file()  # the refused one did not remove it
    assert not destination.lock_path(dest).exists()
    assert not (tmp_path / "new").exists(), "the folders made only for the lock stay behind"


def test_a_lock_file_removed_while_locking_is_not_the_lock(tmp_path: Path, monkeypatch) -> None:
    """The previous holder removes the file between our open and our flock: the lock we then get
    is on a file nobody else will open, so we must lock the file now at the path instead."""
    dest = tmp_path / "store"
    real_flock = fcntl.flock
    locked: list[int] = []

    def flock(fh, operation: int) -> None:
        if not locked:
            destination.lock_path(dest).unlink()  # the previous holder exits just now
        real_flock(fh, operation)
        locked.append(os.fstat(fh.fileno()).st_ino)

    monkeypatch.setattr(destination.fcntl, "flock", flock)
    with destination.lock(dest):
        assert len(locked) == 2, "the lock on the removed file was kept"
        assert destination.lock_path(dest).stat().st_ino == locked[-1]
    assert not destination.lock_path(dest).exists()


def test_tidy_leaves_a_store_being_compiled_alone(tmp_path: Path, dead_pid: int) -> None:
    dest = tmp_path / "store"
    left = dest / f".CURRENT.tmp-{dead_pid}-0a1b2c3d"
    dest.mkdir()
    left.write_text("x")
    with destination.lock(dest):  # another compile is running
        assert destination.tidy(dest) == []
        assert left.exists()
    assert destination.tidy(dest) == [left]
    assert not left.exists() and not destination.lock_path(dest).exists()
