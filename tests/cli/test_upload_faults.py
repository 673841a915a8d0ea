"""`ctsite upload-data` against a remote that loses writes (issue 22): a write refused in the
middle of an object, a write stored wrong without an error, a disk that fills up. No object
ever holds wrong bytes under its content name, nothing wrong goes live, the error is one line.

OpenSSH's sftp-server runs behind `tests/support/sftp_faults.py` (a pass-through unless a rule
names a write), with moto's Transfer API in front as for every upload test.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest

from ctsite.sftp.client import TEMP_MARK
from ctsite.sftp.manifest import MANIFEST
from ctsite.store import format as fmt
from ctsite.store import versions
from ctsite.store.reader import Store
from tests.cli.test_upload_publish import (
    add_big_figure,
    change_one_condition,
    compile_store,
    live,
    make_project,
    remote_store,
    run,
)
from tests.support.components import unavailable

pytestmark = pytest.mark.sshd


@pytest.fixture
def sftp_faults(tmp_path: Path) -> Path:
    folder = tmp_path / "faults"
    folder.mkdir()
    return folder / "rules.json"


def wrong_objects(store: Path) -> list[str]:
    """Remote objects (final names only) whose bytes do not hash to their name."""
    folder = store / fmt.OBJECTS_DIR
    return sorted(
        p.name
        for p in folder.iterdir()
        if TEMP_MARK not in p.name and hashlib.sha256(p.read_bytes()).hexdigest() != p.name[:64]
    )


@pytest.mark.parametrize("fault", ["fail", "corrupt"])
def test_a_lost_or_wrong_write_mid_object_never_goes_live(
    tmp_path, sftp_faults, transfer_to_sshd, transfer_servers, fault
):
    _aws, sshd = transfer_to_sshd
    rule = {"path_contains": "/objects/", "nth_write": 2, "fault": fault}
    sftp_faults.write_text(json.dumps({"rules": [rule]}))
    project = make_project(tmp_path)
    v1 = versions.read_pointer(project / "data/compiled").version
    done = run(project, "upload-data")
    assert len(list(sftp_faults.parent.glob("fired-*"))) == 1  # the fault did happen
    assert done.returncode == 0, done.stderr
    remote = remote_store(sshd)
    assert wrong_objects(remote) == []
    assert live(remote) == (v1, None)
    assert Store.open(remote).version == v1
    assert transfer_servers() == []


@pytest.fixture
def tmpfs(sshd):
    """The remote data folder on a small tmpfs of its own (as root; skipped where mounting is
    not allowed); `resize(size)` changes its size."""
    mount = sshd.root / "data"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
                          capture_output=True, text=True)  # fmt: skip
    if made.returncode != 0:
        unavailable(f"cannot mount a tmpfs here: {made.stderr.strip()}")

    def resize(size: str) -> None:
        subprocess.run(["mount", "-o", f"remount,size={size}", str(mount)], check=True)

    yield resize
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_remote_disk_is_one_line_and_the_live_version_stays(
    tmp_path, sftp_faults, transfer_to_sshd, transfer_servers, tmpfs
):
    _aws, sshd = transfer_to_sshd
    project = make_project(tmp_path)
    v1 = versions.read_pointer(project / "data/compiled").version
    assert run(project, "upload-data").returncode == 0
    remote = remote_store(sshd)

    change_one_condition(project, 3.0)
    v2 = compile_store(project)
    add_big_figure(project, v2, 320_000)
    local_figure = (
        project / "data/compiled" / fmt.VERSIONS_DIR / v2 / fmt.FIGURES_DIR / "big.json.gz"
    )
    remote_figure = remote / local_figure.relative_to(project / "data/compiled")
    disk = os.statvfs(sshd.root / "data")
    used = (disk.f_blocks - disk.f_bfree) * disk.f_frsize
    tmpfs(f"{(used >> 10) + 96}k")  # room for a part of the new objects only
    full = run(project, "upload-data")
    assert full.returncode != 0, full.stdout + full.stderr
    assert "Traceback" not in full.stderr
    error = [line for line in full.stderr.splitlines() if line.startswith("error:")]
    assert len(error) == 1, full.stderr
    assert "disk full" in error[0] and f"the site still serves version {v1}" in error[0]
    assert wrong_objects(remote) == []  # no truncated object under its content name
    assert not remote_figure.exists()  # nor a truncated file of the version under its name
    assert live(remote) == (v1, None)
    assert Store.open(remote).version == v1

    tmpfs("16m")  # space again: the re-run sweeps what the failed one left and publishes
    again = run(project, "upload-data")
    assert again.returncode == 0, again.stderr
    assert wrong_objects(remote) == []
    assert remote_figure.read_bytes() == local_figure.read_bytes()
    assert live(remote) == (v2, v1)
    assert not [p for p in (sshd.root / "data").rglob("*") if TEMP_MARK in p.name]
    assert Store.open(remote).version == v2
    assert transfer_servers() == []


# ---------------------------------------------------------------- the main session's own writes


def refuse_writes(rules: Path, path_contains: str) -> None:
    """Every write to a file whose path contains `path_contains` is refused (retries too)."""
    rule = {"path_contains": path_contains, "nth_write": 1, "fault": "fail", "times": 50}
    rules.write_text(json.dumps({"rules": [rule]}))


def fired(rules: Path) -> int:
    return len(list(rules.parent.glob("fired-*")))


def test_a_refused_pointer_write_keeps_the_live_version_and_says_the_disk_may_be_full(
    tmp_path, sftp_faults, transfer_to_sshd, transfer_servers
):
    """The pointer's temp file is written on the main session: a refused write there (a disk
    that filled up just before the switch) is one line saying so and which version is live."""
    _aws, sshd = transfer_to_sshd
    project = make_project(tmp_path)
    v1 = versions.read_pointer(project / "data/compiled").version
    assert run(project, "upload-data").returncode == 0
    change_one_condition(project, 2.5)
    v2 = compile_store(project)
    refuse_writes(sftp_faults, f".{fmt.POINTER}{TEMP_MARK}")
    done = run(project, "upload-data")
    assert fired(sftp_faults) > 0  # the rule did fire (the pointer's temp file was refused)
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr
    error = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(error) == 1, done.stderr
    assert "switching the remote pointer failed" in error[0]
    assert "remote disk full" in error[0] and f"the site still serves version {v1}" in error[0]
    remote = remote_store(sshd)
    assert live(remote) == (v1, None)
    assert Store.open(remote).version == v1
    assert not [p for p in remote.iterdir() if TEMP_MARK in p.name]  # its temp was removed

    sftp_faults.write_text("{}")
    again = run(project, "upload-data")
    assert again.returncode == 0, again.stderr
    assert live(remote) == (v2, v1)
    assert transfer_servers() == []


def test_a_refused_sync_manifest_write_says_the_new_version_is_live(
    tmp_path, sftp_faults, transfer_to_sshd, transfer_servers
):
    """The sync manifest (the upload record) is the last write on the main session, after the
    switch: refused, the one line says the new version is live and the disk may be full."""
    _aws, sshd = transfer_to_sshd
    project = make_project(tmp_path)
    v1 = versions.read_pointer(project / "data/compiled").version
    refuse_writes(sftp_faults, MANIFEST)
    done = run(project, "upload-data")
    assert fired(sftp_faults) > 0
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr
    error = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(error) == 1, done.stderr
    assert f"the site now serves version {v1}; recording the upload failed" in error[0]
    assert "remote disk full" in error[0]
    remote = remote_store(sshd)
    assert live(remote) == (v1, None)
    assert Store.open(remote).version == v1
    assert transfer_servers() == []
