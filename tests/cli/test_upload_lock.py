"""One upload at a time into a remote store: `ctsite upload-data` holds the remote store's upload
lock from its plan to its prune (issue 22, red team) — against moto's Transfer API and a real
sshd whose sftp-server runs behind `tests/support/sftp_faults.py`, so a test can hold the first
upload at its pointer switch while a second one starts.
"""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ctsite.sftp.client import LOCK_DIR, TEMP_MARK
from ctsite.sftp.lock import OWNER, Holder
from ctsite.store import format as fmt
from ctsite.store import versions
from ctsite.store.reader import Store
from tests.cli.test_upload_publish import (
    change_one_condition,
    compile_store,
    live,
    local_objects,
    make_project,
    remote_store,
    run,
)
from tests.support.cli import start_ctsite, wait_while_running

pytestmark = pytest.mark.sshd


@pytest.fixture
def sftp_faults(tmp_path: Path) -> Path:
    folder = tmp_path / "faults"
    folder.mkdir()
    return folder / "rules.json"


def complete(remote: Path) -> list[str]:
    """What is wrong with the live version of the remote store ([]: it is complete)."""
    pointer = versions.read_pointer(remote)
    if pointer is None:
        return ["no pointer"]
    problems = []
    doc = json.loads((remote / fmt.VERSIONS_DIR / pointer.version / fmt.MANIFEST).read_bytes())
    for name in versions.objects_of(doc):
        path = remote / fmt.OBJECTS_DIR / name
        if not path.is_file():
            problems.append(f"missing object {name}")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != name[:64]:
            problems.append(f"wrong bytes in {name}")
    return problems


def test_a_second_upload_waits_for_the_first_instead_of_breaking_it(
    tmp_path, sftp_faults, transfer_to_sshd, transfer_servers
):
    """The red team's repro: upload A is held at its pointer switch (its version complete on
    the remote, the rename not yet done) while upload B of another version runs. Without a lock
    B switched, pruned A's version and deleted A's objects, then A's switch landed: the site
    pointed at a version with missing objects. Now B refuses, naming the holder and its age,
    and warns that another upload's Transfer server is alive; A finishes; B then publishes."""
    _aws, sshd = transfer_to_sshd
    first = make_project(tmp_path / "a")
    v_0 = versions.read_pointer(first / "data/compiled").version
    assert run(first, "upload-data").returncode == 0  # the live version before both uploads
    change_one_condition(first, 1.5)
    v_a = compile_store(first)
    second = make_project(tmp_path / "b")
    change_one_condition(second, 2.0)
    v_b = compile_store(second)
    held = {"request": "rename", "path_contains": f".{fmt.POINTER}{TEMP_MARK}", "fault": "hold"}
    sftp_faults.write_text(json.dumps({"rules": [held]}))
    marker = sftp_faults.parent
    upload_a = start_ctsite("upload-data", cwd=first)
    try:
        wait_while_running(
            upload_a, lambda: (marker / "held-0").exists(), "upload A never reached its switch", 120
        )
        started = time.monotonic()
        b = run(second, "upload-data")
        assert b.returncode != 0, b.stdout + b.stderr
        assert "Traceback" not in b.stderr
        error = [line for line in b.stderr.splitlines() if line.startswith("error:")]
        assert len(error) == 1, b.stderr
        assert "another upload holds the remote store's upload lock" in error[0]
        assert f"@{socket.gethostname()} (pid {upload_a.pid})" in error[0]
        assert "last heartbeat" in error[0] and "nothing was sent" in error[0]
        assert "--break-lock" in b.stderr
        assert "another upload is running: Transfer server" in b.stderr  # A's live server
        assert time.monotonic() - started < 60
    finally:
        (marker / "release-0").touch()
        out, err = upload_a.communicate(timeout=120)
    assert upload_a.returncode == 0, err
    assert f"the site now serves version {v_a}" in out
    remote = remote_store(sshd)
    assert live(remote) == (v_a, v_0)
    assert complete(remote) == []
    assert Store.open(remote).version == v_a
    assert not (remote / LOCK_DIR).exists()  # released

    again = run(second, "upload-data")
    assert again.returncode == 0, again.stderr
    assert live(remote) == (v_b, v_a)
    assert complete(remote) == []
    assert local_objects(first, v_a) <= {p.name for p in (remote / fmt.OBJECTS_DIR).iterdir()}
    assert transfer_servers() == []


def plant_lock(remote: Path, *, host: str, pid: int, silent: timedelta) -> Holder:
    """A lock as another upload leaves it on the remote store."""
    beat = datetime.now(UTC).replace(microsecond=0) - silent
    holder = Holder("f" * 32, "alice", host, pid, beat - timedelta(minutes=3), beat)
    folder = remote / LOCK_DIR
    folder.mkdir(parents=True)
    (folder / OWNER).write_bytes(holder.to_bytes())
    return holder


def test_a_stale_lock_from_another_machine_needs_break_lock(
    tmp_path, transfer_to_sshd, transfer_servers
):
    _aws, sshd = transfer_to_sshd
    project = make_project(tmp_path)
    version = versions.read_pointer(project / "data/compiled").version
    remote = remote_store(sshd)
    plant_lock(remote, host="build-box", pid=4242, silent=timedelta(minutes=12))
    refused = run(project, "upload-data")
    assert refused.returncode != 0
    error = [line for line in refused.stderr.splitlines() if line.startswith("error:")]
    assert len(error) == 1, refused.stderr
    assert "alice@build-box (pid 4242)" in error[0] and "last heartbeat 12 min ago" in error[0]
    assert "re-run with `ctsite upload-data --break-lock`" in refused.stderr
    assert versions.read_pointer(remote) is None  # nothing was sent

    broken = run(project, "upload-data", "--break-lock")
    assert broken.returncode == 0, broken.stderr
    assert "breaking the upload lock of alice@build-box (pid 4242)" in broken.stderr
    assert live(remote) == (version, None)
    assert not (remote / LOCK_DIR).exists()
    assert not [p for p in remote.iterdir() if p.name.startswith(LOCK_DIR)]
    assert transfer_servers() == []


def test_break_lock_never_breaks_a_live_lock(tmp_path, transfer_to_sshd, transfer_servers):
    _aws, sshd = transfer_to_sshd
    project = make_project(tmp_path)
    remote = remote_store(sshd)
    holder = plant_lock(remote, host="build-box", pid=4242, silent=timedelta(seconds=20))
    done = run(project, "upload-data", "--break-lock")
    assert done.returncode != 0
    assert "not broken: its heartbeat is recent, so it is alive" in done.stderr
    assert "wait for it to finish" in done.stderr
    assert Holder.parse((remote / LOCK_DIR / OWNER).read_bytes()) == holder  # untouched
    assert versions.read_pointer(remote) is None
    assert transfer_servers() == []


def test_the_lock_of_a_stopped_upload_on_this_host_is_taken_over(
    tmp_path, transfer_to_sshd, transfer_servers
):
    """A lock taken on this host by a process that no longer exists (a killed upload) cannot
    belong to a running upload: the next run takes it over at once, and says so."""
    _aws, sshd = transfer_to_sshd
    project = make_project(tmp_path)
    version = versions.read_pointer(project / "data/compiled").version
    ended = subprocess.Popen(["true"])
    ended.wait()
    pid = ended.pid
    remote = remote_store(sshd)
    plant_lock(remote, host=socket.gethostname(), pid=pid, silent=timedelta(seconds=5))
    done = run(project, "upload-data")
    assert done.returncode == 0, done.stderr
    assert "taking over the upload lock of a stopped upload" in done.stderr
    assert live(remote) == (version, None)
    assert not (remote / LOCK_DIR).exists()
    assert transfer_servers() == []


def test_the_lock_folder_is_not_part_of_the_synced_tree(
    tmp_path, transfer_to_sshd, transfer_servers
):
    """A plain tree (no store) is locked at the remote root, where `--delete` deletes what the
    local tree lacks: the lock folder is not part of the tree (never planned, deleted or sent;
    a local folder of that name is not sent over it)."""
    _aws, sshd = transfer_to_sshd
    data = tmp_path / "plain" / "data"
    (data / "raw").mkdir(parents=True)
    (data / "raw" / "a.bin").write_bytes(b"a")
    (data / LOCK_DIR).mkdir()
    (data / LOCK_DIR / OWNER).write_text("a local folder, not a lock")
    done = run(data.parent, "upload-data", "--delete")
    assert done.returncode == 0, done.stderr
    assert "1 file(s) to send" in done.stdout and "0 remote file(s) to delete" in done.stdout
    remote = sshd.root / "data"
    assert sorted(p.relative_to(remote).as_posix() for p in remote.rglob("*")) == [
        ".ctsite-manifest.json",
        "raw",
        "raw/a.bin",
    ]
    assert transfer_servers() == []
