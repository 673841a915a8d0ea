"""`.platform/hooks/predeploy/mount-efs.sh`: shellcheck clean, and run with stub `mount`,
`mountpoint` and `yum` executables first on PATH for the fresh, already-mounted and failing paths."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.components import unavailable
from tests.support.ebtest import EFS_ID, REPO

SCRIPT = REPO / ".platform" / "hooks" / "predeploy" / "mount-efs.sh"

# Each stub logs its arguments; `mount` creates a marker that `mountpoint` then reports.
STUBS = {
    "yum": 'echo "yum $*" >> "$STUB_LOG"\nexit "${YUM_EXIT:-0}"\n',
    "mount": (
        'echo "mount $*" >> "$STUB_LOG"\n'
        'if [ "${MOUNT_EXIT:-0}" != 0 ]; then echo "mount.efs: connection timed out" >&2;'
        ' exit "$MOUNT_EXIT"; fi\n'
        'touch "$STUB_STATE/mounted"\n'
    ),
    "mountpoint": 'echo "mountpoint $*" >> "$STUB_LOG"\n[ -e "$STUB_STATE/mounted" ]\n',
}


def test_shellcheck_clean() -> None:
    if shutil.which("shellcheck") is None:
        unavailable("shellcheck not installed (Debian package shellcheck)")
    result = subprocess.run(
        ["shellcheck", "--severity=style", str(SCRIPT)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_script_is_executable_and_strict() -> None:
    assert os.access(SCRIPT, os.X_OK)
    assert "set -euo pipefail" in SCRIPT.read_text()


@pytest.fixture
def run(tmp_path: Path):
    """Run the hook with stubs on PATH; returns (result, log lines, mount dir)."""
    if shutil.which("bash") is None:
        unavailable("bash not installed")
    stubs = tmp_path / "bin"
    stubs.mkdir()
    for name, body in STUBS.items():
        path = stubs / name
        path.write_text("#!/bin/sh\n" + body)
        path.chmod(0o755)
    state = tmp_path / "state"
    state.mkdir()
    log = tmp_path / "stub.log"
    log.touch()
    mount_dir = tmp_path / "efs_data"

    def go(mounted: bool = False, **env: str):
        if mounted:
            (state / "mounted").touch()
        environ = {
            "PATH": f"{stubs}:{os.environ['PATH']}",
            "STUB_LOG": str(log),
            "STUB_STATE": str(state),
            "EB_GET_CONFIG": str(tmp_path / "no-get-config"),
            "EFS_FILE_SYSTEM_ID": EFS_ID,
            "EFS_MOUNT_DIR": str(mount_dir),
            **env,
        }
        result = subprocess.run(
            ["bash", str(SCRIPT)], env=environ, capture_output=True, text=True, timeout=30
        )
        return result, log.read_text().splitlines(), mount_dir

    return go


def test_fresh_mount(run) -> None:
    result, log, mount_dir = run()
    assert result.returncode == 0, result.stderr
    assert log == [
        f"mountpoint -q {mount_dir}",
        "yum install -y -q amazon-efs-utils",
        f"mount -t efs -o tls,_netdev {EFS_ID}:/ {mount_dir}",
        f"mountpoint -q {mount_dir}",
    ]
    assert mount_dir.is_dir()
    assert f"mounted {EFS_ID} at {mount_dir}" in result.stdout


def test_already_mounted_is_fine(run) -> None:
    result, log, mount_dir = run(mounted=True)
    assert result.returncode == 0, result.stderr
    assert log == [f"mountpoint -q {mount_dir}"]
    assert "already mounted" in result.stdout


def test_mount_failure_fails_loudly(run) -> None:
    result, log, mount_dir = run(MOUNT_EXIT="32")
    assert result.returncode != 0
    assert "mount.efs: connection timed out" in result.stderr
    assert f"mount-efs: ERROR: mounting {EFS_ID} at {mount_dir} failed" in result.stderr
    assert "TCP 2049" in result.stderr
    assert log[-1].startswith("mount -t efs")


def test_yum_failure_fails_loudly(run) -> None:
    result, log, _ = run(YUM_EXIT="1")
    assert result.returncode != 0
    assert "could not install amazon-efs-utils" in result.stderr
    assert not any(line.startswith("mount ") for line in log)


def test_missing_file_system_id(run) -> None:
    result, log, _ = run(EFS_FILE_SYSTEM_ID="")
    assert result.returncode != 0
    assert "EFS_FILE_SYSTEM_ID is not set" in result.stderr
    assert log == []


def test_reads_properties_with_get_config(run, tmp_path: Path) -> None:
    """Without the variables in its environment the hook asks EB's get-config for them."""
    get_config = tmp_path / "get-config"
    get_config.write_text(
        "#!/bin/sh\n"
        f'case "$3" in EFS_FILE_SYSTEM_ID) printf {EFS_ID};; '
        f"EFS_MOUNT_DIR) printf {tmp_path}/from-config;; esac\n"
    )
    get_config.chmod(0o755)
    result, log, _ = run(EB_GET_CONFIG=str(get_config), EFS_FILE_SYSTEM_ID="", EFS_MOUNT_DIR="")
    assert result.returncode == 0, result.stderr
    assert f"mount -t efs -o tls,_netdev {EFS_ID}:/ {tmp_path}/from-config" in log
