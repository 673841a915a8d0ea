"""A file gets its final name only once its bytes on the remote are confirmed (issue 22).

Against OpenSSH's sftp-server behind `tests/support/sftp_faults.py`: a remote that refuses one
write in the middle of a file (paramiko's pipelined writes used to lose that error, leaving a
zero-filled hole under the final name) and a remote that stores one write wrong without any
error (only reading the bytes back can tell).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import paramiko
import pytest

from ctsite.sftp import sync
from ctsite.sftp.client import TEMP_MARK, Endpoint, connect
from ctsite.sftp.manifest import MANIFEST, scan_local

pytestmark = pytest.mark.sshd


@pytest.fixture
def sftp_faults(tmp_path: Path) -> Path:
    folder = tmp_path / "faults"
    folder.mkdir()
    return folder / "rules.json"


@pytest.fixture
def endpoint(sshd) -> Endpoint:
    key = paramiko.ECDSAKey.generate()
    sshd.authorize(f"{key.get_name()} {key.get_base64()}")
    return Endpoint("127.0.0.1", sshd.port, "root", key, sshd.fingerprint)


def make_tree(root: Path, count: int = 6, size: int = 300_000) -> dict[str, str]:
    """Files of random bytes under `root`; returns their SHA-256 digests."""
    files = {f"compiled/f{i}.bin": os.urandom(size + i) for i in range(count)}
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return {rel: hashlib.sha256(data).hexdigest() for rel, data in files.items()}


def remote_tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }


def run_sync(endpoint: Endpoint, local: Path, jobs: int = 2, read_back: bool = True):
    first = connect(endpoint)
    plan, manifest = sync.plan_remote(first, scan_local(local, lazy=True), "data", [""], local)
    return sync.sync_tree(
        lambda: connect(endpoint),
        local,
        "data",
        plan,
        manifest,
        jobs=jobs,
        backoff=0.05,
        main=first,
        read_back=sync.every_file if read_back else lambda _rel: False,
    )


def fired(rules: Path) -> int:
    return len(list(rules.parent.glob("fired-*")))


@pytest.mark.parametrize(
    ("jobs", "read_back"),
    [(1, True), (3, True), (1, False), (3, False)],
    ids=["1-job", "3-jobs", "1-job-answers-only", "3-jobs-answers-only"],
)
def test_a_write_refused_mid_file_never_leaves_a_hole_under_the_final_name(
    tmp_path, sftp_faults, sshd, endpoint, jobs, read_back
):
    """The refusal is answered at once, ahead of the answers to earlier writes (out of order,
    as SFTP allows): it must not be lost, even without the read-back ("answers-only")."""
    sftp_faults.write_text(
        json.dumps({"rules": [{"path_contains": "compiled/", "nth_write": 3, "fault": "fail"}]})
    )
    local = tmp_path / "data"
    files = make_tree(local)
    result = run_sync(endpoint, local, jobs, read_back)
    assert fired(sftp_faults) == 1  # the remote did refuse one write
    assert remote_tree(sshd.root / "data") == files  # no hole: the refused file was sent again
    assert result.retries >= 1
    assert not [p for p in (sshd.root / "data").rglob("*") if TEMP_MARK in p.name]


def test_bytes_stored_wrong_without_an_error_are_caught_by_reading_them_back(
    tmp_path, sftp_faults, sshd, endpoint
):
    sftp_faults.write_text(
        json.dumps({"rules": [{"path_contains": "compiled/", "nth_write": 2, "fault": "corrupt"}]})
    )
    local = tmp_path / "data"
    files = make_tree(local)
    result = run_sync(endpoint, local)
    assert fired(sftp_faults) == 1  # the remote did store one write wrong, answering OK
    assert remote_tree(sshd.root / "data") == files
    assert result.retries >= 1
    assert not [p for p in (sshd.root / "data").rglob("*") if TEMP_MARK in p.name]
