"""`ctsite upload-data` end to end: a subprocess against moto's AWS server and a real sshd."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import boto3
import pytest

from ctsite.sftp.client import TEMP_MARK
from ctsite.sftp.manifest import MANIFEST
from tests.support.cli import cli_env, run_ctsite, start_ctsite, wait_while_running

pytestmark = pytest.mark.sshd
REGION = "us-east-2"


def ctsite(
    project: Path, *args: str, timeout: float = 120, **extra: str
) -> subprocess.CompletedProcess:
    return run_ctsite(
        "upload-data",
        *args,
        cwd=project,
        env=cli_env(COLUMNS="200", **extra),
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def make_project(tmp_path: Path, files: dict[str, bytes]) -> Path:
    project = tmp_path / "project"
    for rel, data in files.items():
        path = project / "data" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (project / "data").mkdir(parents=True, exist_ok=True)
    return project


def remote_tree(sshd) -> dict[str, bytes]:
    root = sshd.root / "data"
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }


def test_upload_sync_and_teardown(tmp_path, transfer_to_sshd, transfer_servers):
    _aws, sshd = transfer_to_sshd
    files = {f"compiled/c{i}.parquet": os.urandom(20_000 + i) for i in range(8)}
    files["raw/input.h5ad"] = b"raw"
    project = make_project(tmp_path, files)
    (sshd.root / "data/compiled").mkdir(parents=True)
    (sshd.root / "data/compiled/stale.json").write_text("old")
    (sshd.root / "data/mine.txt").write_text("not under compiled/: kept")

    run = ctsite(project)
    assert run.returncode == 0, run.stderr
    assert "9 file(s) to send" in run.stdout
    assert "1 remote file(s) to delete" in run.stdout and "stale.json" in run.stdout
    assert "estimated cost <$0.01" in run.stdout and "server deleted" in run.stdout
    assert remote_tree(sshd) == files | {"mine.txt": b"not under compiled/: kept"}
    assert transfer_servers() == []

    (project / "data/compiled/c2.parquet").write_bytes(b"new content")
    run = ctsite(project)
    assert run.returncode == 0, run.stderr
    assert "1 file(s) to send (0.0 MB), 0 remote file(s) to delete" in run.stdout
    assert "sent 1 file(s)" in run.stdout
    assert transfer_servers() == []

    run = ctsite(project, "--delete")
    assert run.returncode == 0, run.stderr
    assert "0 file(s) to send" in run.stdout and "1 remote file(s) to delete" in run.stdout
    assert remote_tree(sshd) == {
        **files,
        "compiled/c2.parquet": b"new content",
    }
    assert "-----BEGIN" not in run.stdout + run.stderr


def test_dry_run_touches_nothing(tmp_path, moto_aws, transfer_servers):
    project = make_project(tmp_path, {"compiled/a.bin": b"x" * 1000})
    run = ctsite(project, "--dry-run")
    assert run.returncode == 0, run.stderr
    assert "1 file(s) to send (0.0 MB)" in run.stdout
    assert "estimated cost: $" in run.stdout
    assert transfer_servers() == []


def test_missing_data_dir(tmp_path, moto_aws, transfer_servers):
    project = tmp_path / "empty"
    project.mkdir()
    run = ctsite(project)
    assert run.returncode != 0
    assert "data directory not found" in run.stderr
    assert "Traceback" not in run.stderr
    assert transfer_servers() == []


def test_wrong_efs_id(tmp_path, moto_aws, transfer_servers):
    project = make_project(tmp_path, {"compiled/a.bin": b"x"})
    run = ctsite(project, CTSITE_EFS_FILE_SYSTEM_ID="fs-12345678")
    assert run.returncode != 0
    assert "EFS file system fs-12345678" in run.stderr and "not found" in run.stderr
    assert "Traceback" not in run.stderr
    assert transfer_servers() == []


def test_host_key_mismatch_refused_and_server_deleted(tmp_path, transfer_to_sshd, transfer_servers):
    project = make_project(tmp_path, {"compiled/a.bin": b"x"})
    wrong = "SHA256:" + "A" * 43
    run = ctsite(project, CTSITE_SFTP_HOST_KEY_FINGERPRINT=wrong)
    assert run.returncode != 0
    assert "host key mismatch" in run.stderr
    assert "Traceback" not in run.stderr
    assert "server deleted" in run.stderr  # progress of a failed upload goes to stderr
    assert transfer_servers() == []


def test_cleanup_sweeps_orphans(tmp_path, moto_aws, transfer_servers, left_behind):
    left_behind(hours_old=9)
    tc = boto3.client("transfer", region_name=REGION)
    keep = tc.create_server()["ServerId"]
    project = make_project(tmp_path, {})
    run = ctsite(project, "--cleanup")
    assert run.returncode == 0, run.stderr
    assert "LEFT BEHIND" in run.stderr and "deleted s-" in run.stdout
    assert [s["ServerId"] for s in transfer_servers()] == [keep]


def test_orphan_flagged_but_kept_without_cleanup(
    tmp_path, transfer_to_sshd, transfer_servers, left_behind
):
    orphan = left_behind(hours_old=9)
    project = make_project(tmp_path, {"compiled/a.bin": b"x"})
    run = ctsite(project)
    assert run.returncode == 0, run.stderr
    assert "LEFT BEHIND" in run.stderr and "--cleanup" in run.stderr
    assert [s["ServerId"] for s in transfer_servers()] == [orphan]


@pytest.mark.slow
@pytest.mark.parametrize(
    "signals",
    [[signal.SIGINT], [signal.SIGTERM], [signal.SIGINT, signal.SIGINT, signal.SIGTERM]],
    ids=["SIGINT", "SIGTERM", "impatient"],
)
def test_signal_mid_upload_deletes_server(tmp_path, transfer_to_sshd, transfer_servers, signals):
    _aws, sshd = transfer_to_sshd
    project = make_project(tmp_path, {})
    block = os.urandom(1 << 20)
    for i in range(40):
        (project / "data/compiled").mkdir(parents=True, exist_ok=True)
        (project / "data/compiled" / f"f{i:02d}.bin").write_bytes(block * 8)
    proc = start_ctsite("upload-data", "--jobs", "1", cwd=project)
    remote = sshd.root / "data"
    try:
        wait_while_running(
            proc,
            lambda: remote.is_dir() and any(TEMP_MARK in p.name for p in remote.rglob("*")),
            "the upload never started",
        )
        assert len(transfer_servers()) == 1
        for signum in signals:
            proc.send_signal(signum)
            time.sleep(0.05)
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode in (130, 143), err
    if len(signals) == 1:
        assert proc.returncode == 128 + signals[0]
    assert "Traceback" not in err
    assert "server deleted" in err  # progress of a stopped upload goes to stderr
    (stopped,) = [line for line in err.splitlines() if line.startswith("error: stopped by ")]
    assert stopped.endswith("the remote keeps the files confirmed so far; re-run to finish")
    assert transfer_servers() == []


def test_unreadable_file_stops_before_any_server(tmp_path, moto_aws, transfer_servers):
    project = make_project(tmp_path, {"compiled/ok.bin": b"ok"})
    bad = project / "data/compiled/bad.bin"
    if os.geteuid() == 0:
        bad.symlink_to("/proc/self/mem")  # a regular file whose read fails, even for root
    else:
        bad.write_bytes(b"x")
        bad.chmod(0)
    for args in ([], ["--dry-run"]):
        run = ctsite(project, *args)
        assert run.returncode != 0
        assert "cannot read" in run.stderr and "bad.bin" in run.stderr
        assert "Traceback" not in run.stderr
    assert transfer_servers() == []


def test_bad_jobs_option(tmp_path, moto_aws):
    project = make_project(tmp_path, {"compiled/ok.bin": b"ok"})
    run = ctsite(project, "--jobs", "0")
    assert run.returncode == 2
    assert "upload_jobs = 0 is out of range (valid: 1..64)" in run.stderr
    assert "Traceback" not in run.stderr


def test_dry_run_without_a_record_says_what_it_assumes(tmp_path, moto_aws):
    project = make_project(tmp_path, {"compiled/a.bin": b"x"})
    run = ctsite(project, "--dry-run")
    assert run.returncode == 0, run.stderr
    assert "no record of a previous upload" in run.stdout
    assert "assumes the remote is empty" in run.stdout
    # one story: no claim of a manifest it just said it does not have
    assert "manifest of the last successful upload" not in run.stdout
    assert "planned offline without a record of a previous upload" in run.stdout
    # where deletions may happen, not an announcement that a folder is deleted
    assert "(deleting compiled/)" not in run.stdout
    assert "0 remote file(s) to delete (deletions only under compiled/)" in run.stdout


def test_max_delete_refuses_and_says_how_to_allow(tmp_path, transfer_to_sshd, transfer_servers):
    _aws, sshd = transfer_to_sshd
    files = {f"compiled/c{i}.bin": b"x" * (i + 1) for i in range(3)}
    project = make_project(tmp_path, files)
    assert ctsite(project).returncode == 0
    for rel in files:
        (project / "data" / rel).unlink()
    (project / "data/compiled/new.bin").write_bytes(b"new")
    dry = ctsite(project, "--dry-run", "--max-delete", "2")
    assert dry.returncode == 2 and "no record" not in dry.stdout
    run = ctsite(project, "--max-delete", "2")
    assert run.returncode == 2, run.stderr
    assert "deletes 3 remote file(s), more than --max-delete 2" in run.stderr
    assert "--max-delete 3" in run.stderr and "Traceback" not in run.stderr
    assert remote_tree(sshd) == files  # nothing sent, nothing deleted
    assert transfer_servers() == []
    assert ctsite(project, "--max-delete", "3").returncode == 0
    assert remote_tree(sshd) == {"compiled/new.bin": b"new"}


def test_failed_deletion_is_one_clear_error(
    tmp_path, transfer_to_sshd, transfer_servers, delete_fails
):
    project = make_project(tmp_path, {"compiled/a.bin": b"x"})
    delete_fails("AccessDeniedException")
    run = ctsite(project)
    assert run.returncode != 0
    (server,) = transfer_servers()
    assert (
        f"the upload finished; but could not delete the Transfer server {server['ServerId']}"
        in (run.stderr)
    )
    assert "per hour" in run.stderr and "aws transfer delete-server" in run.stderr
    assert "server deleted" not in run.stdout + run.stderr
    assert "<html" not in run.stderr and "Traceback" not in run.stderr


def _publish_host_key(monkeypatch, fingerprint: str) -> None:
    """moto's servers publish `fingerprint` as their HostKeyFingerprint, as AWS does."""
    from moto.transfer.models import TransferBackend

    original = TransferBackend.create_server

    def create_server(self, *args, **kwargs):
        server_id = original(self, *args, **kwargs)
        self.servers[server_id].host_key_fingerprint = fingerprint
        return server_id

    monkeypatch.setattr(TransferBackend, "create_server", create_server)
    monkeypatch.delenv("CTSITE_SFTP_HOST_KEY_FINGERPRINT")


def test_host_key_pinned_from_the_published_fingerprint(
    tmp_path, transfer_to_sshd, transfer_servers, monkeypatch
):
    _aws, sshd = transfer_to_sshd
    _publish_host_key(monkeypatch, sshd.fingerprint)
    project = make_project(tmp_path, {"compiled/a.bin": b"pinned"})
    run = ctsite(project)
    assert run.returncode == 0, run.stderr
    assert remote_tree(sshd) == {"compiled/a.bin": b"pinned"}
    assert transfer_servers() == []


def test_published_fingerprint_of_another_key_is_refused(
    tmp_path, transfer_to_sshd, transfer_servers, monkeypatch
):
    _aws, sshd = transfer_to_sshd
    _publish_host_key(monkeypatch, "SHA256:" + "A" * 43)
    project = make_project(tmp_path, {"compiled/a.bin": b"x"})
    run = ctsite(project)
    assert run.returncode != 0
    assert "host key mismatch" in run.stderr and "Traceback" not in run.stderr
    assert not (sshd.root / "data/compiled/a.bin").exists()
    assert transfer_servers() == []


def test_closed_sftp_port_at_start_is_one_line(tmp_path, transfer_to_sshd, transfer_servers):
    from tests.support.fixtures_sftp import free_port

    project = make_project(tmp_path, {"compiled/a.bin": b"x"})
    run = ctsite(project, CTSITE_SFTP_PORT=str(free_port()))
    assert run.returncode != 0
    assert "cannot open an SFTP session to 127.0.0.1:" in run.stderr
    assert "Traceback" not in run.stderr and "SSHException" not in run.stderr
    assert "server deleted" in run.stderr
    assert transfer_servers() == []
