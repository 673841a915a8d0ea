"""However `ctsite upload-data` ends, it says which version the site serves (issue 22, red team):
a Transfer server that cannot be deleted (after a publish, or after a failed one), Ctrl-C or
SIGTERM mid-upload, and SIGINT at the moment a fallback switch has removed `CURRENT` — against
moto's Transfer API and a real sshd whose sftp-server runs behind `tests/support/sftp_faults.py`.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from ctsite.sftp.client import TEMP_MARK
from ctsite.store import format as fmt
from ctsite.store import versions
from ctsite.store.reader import Store
from tests.cli.test_upload_publish import (
    NO_POSIX_RENAME,
    change_one_condition,
    compile_store,
    live,
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


def rules(path: Path, *rules: dict) -> None:
    path.write_text(json.dumps({"rules": list(rules)}))


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def published(tmp_path: Path) -> tuple[Path, str, str]:
    """A project whose first version is live on the remote and whose second is compiled."""
    project = make_project(tmp_path)
    v1 = versions.read_pointer(project / "data/compiled").version
    first = run(project, "upload-data")
    assert first.returncode == 0, first.stderr
    change_one_condition(project, 1.8)
    return project, v1, compile_store(project)


# ---------------------------------------------------------------- a server left behind


def test_a_server_that_cannot_be_deleted_after_a_publish_still_says_it_is_live(
    tmp_path, sftp_faults, transfer_to_sshd, transfer_servers, delete_fails
):
    """The publish worked, the deletion did not: the summary is printed, and the one error line
    says both that the new version is live and that the server still bills (with the command
    that deletes it). It used to say only "could not delete the Transfer server"."""
    _aws, sshd = transfer_to_sshd
    project, v1, v2 = published(tmp_path)
    delete_fails("AccessDeniedException")
    done = run(project, "upload-data")
    assert done.returncode == 1, done.stdout
    assert "Traceback" not in done.stderr
    (server,) = transfer_servers()
    (error,) = error_lines(done.stderr)
    assert f"the upload finished and the site now serves version {v2}; but " in error
    assert f"could not delete the Transfer server {server['ServerId']}" in error
    assert "still running and costs about $0.30 per hour" in error
    assert f"aws transfer delete-server --server-id {server['ServerId']}" in done.stderr
    assert f"the site now serves version {v2}" in done.stdout  # the summary too
    assert "server NOT deleted" in done.stdout and "(server deleted)" not in done.stdout
    assert live(remote_store(sshd)) == (v2, v1)


def test_a_failed_upload_whose_server_cannot_be_deleted_says_both(
    tmp_path, sftp_faults, transfer_to_sshd, transfer_servers, delete_fails
):
    """The upload fails (every object write refused: a full disk) and then the deletion fails:
    the line keeps the upload's failure and which version is live, and adds the server."""
    _aws, sshd = transfer_to_sshd
    project, v1, _v2 = published(tmp_path)
    rules(sftp_faults, {"path_contains": "/objects/", "nth_write": 1, "fault": "fail", "times": 99})
    delete_fails("AccessDeniedException")
    done = run(project, "upload-data")
    assert done.returncode == 1, done.stdout
    assert "Traceback" not in done.stderr
    (server,) = transfer_servers()
    (error,) = error_lines(done.stderr)
    assert "remote disk full" in error and f"the site still serves version {v1}" in error
    assert f"also could not delete the Transfer server {server['ServerId']}" in error
    assert f"aws transfer delete-server --server-id {server['ServerId']}" in done.stderr
    assert live(remote_store(sshd)) == (v1, None)


# ---------------------------------------------------------------- stop signals


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_stop_signal_mid_upload_says_which_version_is_live(
    tmp_path, sftp_faults, transfer_to_sshd, transfer_servers, signum
):
    """Stopped while an object is on its way (held at its rename): one line naming the signal,
    the version the site still serves and "re-run to finish"; exit 130 / 143."""
    _aws, sshd = transfer_to_sshd
    project, v1, v2 = published(tmp_path)
    hold = {"request": "rename", "path_contains": f"/{fmt.OBJECTS_DIR}/.", "fault": "hold"}
    rules(sftp_faults, hold)
    held = sftp_faults.parent / "held-0"
    proc = start_ctsite("upload-data", "--jobs", "1", cwd=project)
    try:
        wait_while_running(proc, held.exists, "the upload never reached an object", 120)
        proc.send_signal(signum)
        _out, err = proc.communicate(timeout=120)
    finally:
        (sftp_faults.parent / "release-0").touch()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signum, err
    assert "Traceback" not in err
    (error,) = error_lines(err)
    name = "SIGTERM" if signum == signal.SIGTERM else "Ctrl-C (SIGINT)"
    assert error == (
        f"error: stopped by {name}; the site still serves version {v1} (unchanged); "
        "re-run to finish"
    )
    assert "server deleted" in err
    remote = remote_store(sshd)
    assert live(remote) == (v1, None)
    assert transfer_servers() == []

    again = run(project, "upload-data")
    assert again.returncode == 0, again.stderr
    assert live(remote) == (v2, v1)


@pytest.mark.parametrize("sftp_server_flags", [NO_POSIX_RENAME], ids=["fallback"])
def test_ctrl_c_while_current_is_gone_waits_for_it_and_says_the_new_version_is_live(
    tmp_path, sftp_faults, transfer_to_sshd, transfer_servers, sftp_server_flags
):
    """A fallback switch (the server cannot rename over a file) held right after it removed
    `CURRENT` (only `CURRENT.next` names a version), Ctrl-C then: the switch ends first
    (`CURRENT` back, no `CURRENT.next`), and the line says the new version is live. It used to
    end silently with exit 130 and only `CURRENT.next` left."""
    _aws, sshd = transfer_to_sshd
    project, v1, v2 = published(tmp_path)
    remote = remote_store(sshd)
    rules(sftp_faults, {"request": "rename", "path_contains": fmt.POINTER_NEXT, "fault": "hold"})
    held = sftp_faults.parent / "held-0"
    proc = start_ctsite("upload-data", cwd=project)
    try:
        wait_while_running(proc, held.exists, "the switch never removed CURRENT", 120)
        assert not (remote / fmt.POINTER).exists() and (remote / fmt.POINTER_NEXT).exists()
        proc.send_signal(signal.SIGINT)
        (sftp_faults.parent / "release-0").touch()
        _out, err = proc.communicate(timeout=120)
    finally:
        (sftp_faults.parent / "release-0").touch()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    (error,) = error_lines(err)
    assert error.startswith(f"error: stopped by Ctrl-C (SIGINT); the site now serves version {v2}")
    assert error.endswith("re-run to finish")
    assert (remote / fmt.POINTER).is_file() and live(remote) == (v2, v1)
    assert not (remote / fmt.POINTER_NEXT).exists()
    assert Store.open(remote).version == v2
    assert transfer_servers() == []
    again = run(project, "upload-data")
    assert again.returncode == 0, again.stderr
    assert not [p for p in remote.rglob("*") if TEMP_MARK in p.name]
