"""`ctsite upload-data` confirms what goes live (issue 22): remote copies re-read and re-hashed
before a version that names them goes live (`--trust-remote` skips it, and the plan prices it),
a failure after the pointer switch says the new version is live, a re-run after a killed
fallback switch restores `CURRENT` — against moto's Transfer API and a real sshd.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from pathlib import Path

import pytest

from ctsite.store import format as fmt
from ctsite.store import versions
from ctsite.store.reader import Store
from tests.cli.test_upload_publish import (
    NO_POSIX_RENAME,
    change_one_condition,
    compile_store,
    live,
    local_objects,
    make_project,
    remote_store,
    run,
    sent,
)
from tests.support.components import unavailable

pytestmark = pytest.mark.sshd


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tamper(path: Path) -> None:
    """Same size, one byte different: invisible to a size check."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def objects_match_their_names(store: Path) -> list[str]:
    """The remote objects whose bytes do not hash to their name."""
    return sorted(p.name for p in (store / fmt.OBJECTS_DIR).iterdir() if sha256(p) != p.name[:64])


def add_figure(project: Path, version: str) -> Path:
    folder = project / "data/compiled" / fmt.VERSIONS_DIR / version / fmt.FIGURES_DIR
    folder.mkdir(exist_ok=True)
    path = folder / "circos.json"
    path.write_text('{"data": [1, 2, 3], "layout": {}}' * 50)
    return path


def test_a_same_size_tampered_remote_copy_is_sent_again_before_going_live(
    tmp_path, transfer_to_sshd, transfer_servers
):
    _aws, sshd = transfer_to_sshd
    project = make_project(tmp_path)
    v1 = versions.read_pointer(project / "data/compiled").version
    figure = add_figure(project, v1)
    assert run(project, "upload-data").returncode == 0
    remote = remote_store(sshd)

    # the live version's figure, tampered: the next run reads it back and sends it again
    remote_figure = remote / fmt.VERSIONS_DIR / v1 / fmt.FIGURES_DIR / figure.name
    tamper(remote_figure)
    again = run(project, "upload-data")
    assert again.returncode == 0, again.stderr
    assert sent(again.stdout)[0] == 1
    assert "1 remote file(s) differed from the local copy and were sent again" in again.stdout
    assert remote_figure.read_bytes() == figure.read_bytes()

    # an object the new version shares with the live one, tampered on the remote
    change_one_condition(project)
    v2 = compile_store(project)
    shared = local_objects(project, v1) & local_objects(project, v2)
    victim = max(shared, key=lambda name: (remote / fmt.OBJECTS_DIR / name).stat().st_size)
    tamper(remote / fmt.OBJECTS_DIR / victim)
    new = len(local_objects(project, v2) - local_objects(project, v1))
    second = run(project, "upload-data")
    assert second.returncode == 0, second.stderr
    assert sent(second.stdout)[0] == new + 1  # the new objects and the tampered one
    assert live(remote) == (v2, v1)
    assert objects_match_their_names(remote) == []
    assert Store.open(remote).version == v2
    assert transfer_servers() == []


def read_back(output: str) -> tuple[int, float]:
    found = re.search(r"reads back (\d+) file\(s\) \(([0-9.]+) MB\)", output)
    assert found, output
    return int(found.group(1)), float(found.group(2))


def cost(output: str) -> float:
    found = re.search(r"estimated cost: \$([0-9.]+)|estimated cost: <\$0.01", output)
    assert found, output
    return float(found.group(1) or 0.0)


def test_trust_remote_skips_the_rehash_and_the_plan_prices_it(
    tmp_path, transfer_to_sshd, transfer_servers
):
    _aws, sshd = transfer_to_sshd
    project = make_project(tmp_path)
    v1 = versions.read_pointer(project / "data/compiled").version
    assert run(project, "upload-data").returncode == 0
    remote = remote_store(sshd)
    count = len(local_objects(project, v1))

    checked = run(project, "upload-data", "--dry-run")
    trusted = run(project, "upload-data", "--dry-run", "--trust-remote")
    assert checked.returncode == 0 and trusted.returncode == 0, checked.stderr + trusted.stderr
    files, mb = read_back(checked.stdout)
    assert files == count and mb > 0  # every object of the version is read back
    assert read_back(trusted.stdout) == (0, 0.0)
    assert "--trust-remote skips" in checked.stdout
    assert "trusted without reading them back (--trust-remote)" in trusted.stdout

    victim = max((remote / fmt.OBJECTS_DIR).iterdir(), key=lambda p: p.stat().st_size)
    tamper(victim)
    trusting = run(project, "upload-data", "--trust-remote")
    assert trusting.returncode == 0, trusting.stderr
    assert sent(trusting.stdout)[0] == 0
    assert objects_match_their_names(remote) == [victim.name]  # trusted, as asked
    checking = run(project, "upload-data")
    assert checking.returncode == 0, checking.stderr
    assert sent(checking.stdout)[0] == 1
    assert objects_match_their_names(remote) == []
    assert transfer_servers() == []


def test_a_local_object_whose_bytes_do_not_match_its_name_is_refused(
    tmp_path, transfer_to_sshd, transfer_servers
):
    _aws, sshd = transfer_to_sshd
    project = make_project(tmp_path)
    local = project / "data/compiled" / fmt.OBJECTS_DIR
    victim = max(local.iterdir(), key=lambda p: p.stat().st_size)
    tamper(victim)
    done = run(project, "upload-data")
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert victim.name[:16] in done.stderr and "does not match its name" in done.stderr
    assert "no version went live" in done.stderr
    remote = remote_store(sshd)
    assert versions.read_pointer(remote) is None
    assert not (remote / fmt.OBJECTS_DIR / victim.name).exists()
    assert transfer_servers() == []


@pytest.fixture
def immutable(sshd):
    """A function making a remote folder immutable (`chattr +i`: even root cannot create or
    remove names in it); undone at the end."""
    made: list[Path] = []

    def freeze(path: Path) -> None:
        done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
        if done.returncode != 0:
            unavailable(f"chattr +i is not supported here: {done.stderr.strip()}")
        made.append(path)

    yield freeze
    for path in made:
        subprocess.run(["chattr", "-i", str(path)], check=False)


def test_permission_denied_on_the_data_root_after_the_switch_says_the_new_version_is_live(
    tmp_path, transfer_to_sshd, transfer_servers, immutable
):
    _aws, sshd = transfer_to_sshd
    project = make_project(tmp_path)
    v1 = versions.read_pointer(project / "data/compiled").version
    for stray in (project / "data").glob(".*.lock"):
        stray.unlink()  # only the store is sent: the data root gets nothing new before the switch
    remote = remote_store(sshd)
    remote.mkdir(parents=True)
    immutable(remote.parent)  # the data root: the store below it stays writable
    done = run(project, "upload-data")
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert f"the site now serves version {v1}; " in done.stderr
    assert "Permission denied" in done.stderr
    assert live(remote) == (v1, None)
    assert transfer_servers() == []


def test_a_folder_the_server_will_not_create_says_permission_denied(
    tmp_path, transfer_to_sshd, transfer_servers, immutable
):
    """`versions/` immutable on the remote: the new version's folder cannot be made. The line
    gives the server's reason (permission denied), not the "no such file" of a later stat."""
    _aws, sshd = transfer_to_sshd
    project = make_project(tmp_path)
    v1 = versions.read_pointer(project / "data/compiled").version
    assert run(project, "upload-data").returncode == 0
    remote = remote_store(sshd)
    change_one_condition(project, 1.7)
    v2 = compile_store(project)
    immutable(remote / fmt.VERSIONS_DIR)
    done = run(project, "upload-data")
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    error = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(error) == 1, done.stderr
    assert f"cannot create remote directory data/compiled/{fmt.VERSIONS_DIR}/{v2}" in error[0]
    assert "Permission denied" in error[0] and "No such file" not in error[0]
    assert f"the site still serves version {v1}" in error[0]
    assert live(remote) == (v1, None)
    assert transfer_servers() == []


@pytest.mark.parametrize("sftp_server_flags", ["-P remove"], ids=["remove-denied"])
def test_pruning_denied_after_the_switch_says_the_new_version_is_live(
    tmp_path, transfer_to_sshd, transfer_servers, sftp_server_flags
):
    _aws, sshd = transfer_to_sshd
    project = make_project(tmp_path)
    v1 = versions.read_pointer(project / "data/compiled").version
    remote = remote_store(sshd)
    remote.mkdir(parents=True)
    (remote / fmt.MANIFEST).write_text('{"schema_version": 1}')  # the flat layout: pruned
    done = run(project, "upload-data")
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert f"the site now serves version {v1}; pruning failed" in done.stderr
    assert live(remote) == (v1, None)
    assert transfer_servers() == []


@pytest.mark.parametrize("sftp_server_flags", [NO_POSIX_RENAME], ids=["fallback"])
def test_a_rerun_after_a_kill_that_removed_current_restores_it(
    tmp_path, transfer_to_sshd, transfer_servers, sftp_server_flags
):
    _aws, sshd = transfer_to_sshd
    project = make_project(tmp_path)
    v1 = versions.read_pointer(project / "data/compiled").version
    assert run(project, "upload-data").returncode == 0
    remote = remote_store(sshd)
    # as a fallback switch killed right after removing CURRENT leaves it: only CURRENT.next
    (remote / fmt.POINTER).rename(remote / fmt.POINTER_NEXT)
    assert live(remote) == (v1, None)
    resumed = run(project, "upload-data")
    assert resumed.returncode == 0, resumed.stderr
    assert (remote / fmt.POINTER).is_file() and live(remote) == (v1, None)
    assert not (remote / fmt.POINTER_NEXT).exists()
    assert transfer_servers() == []
