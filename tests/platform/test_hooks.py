"""The Amazon Linux 2023 platform hooks: the HTTPS redirect (with stub `nginx`/`systemctl` for its
logic, then its nginx snippet in a real nginx) and the EFS mount hook's dnf path."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.support.components import unavailable

REPO = Path(__file__).resolve().parents[2]
HOOK = REPO / ".platform" / "hooks" / "postdeploy" / "https-redirect.sh"
CONFIG_HOOK = REPO / ".platform" / "confighooks" / "postdeploy" / "https-redirect.sh"
MOUNT = REPO / ".platform" / "hooks" / "predeploy" / "mount-efs.sh"
STUB = '#!/bin/sh\necho "$(basename "$0") $*" >> "$STUB_LOG"\n'


@pytest.fixture
def stubs(tmp_path: Path) -> Path:
    if shutil.which("bash") is None:
        unavailable("bash not installed")
    folder = tmp_path / "bin"
    folder.mkdir()
    for name in ("nginx", "systemctl", "dnf", "yum", "mount"):
        (folder / name).write_text(STUB)
        (folder / name).chmod(0o755)
    (folder / "mount").write_text(STUB + 'touch "$STUB_LOG.mounted"\n')
    (folder / "mountpoint").write_text(STUB + '[ -e "$STUB_LOG.mounted" ]\n')
    (folder / "mountpoint").chmod(0o755)
    return folder


def _run(script: Path, stubs: Path, tmp_path: Path, **env: str) -> tuple[int, str, list[str]]:
    log = tmp_path / "stub.log"
    environ = {
        "PATH": f"{stubs}:/usr/bin:/bin",
        "STUB_LOG": str(log),
        "EB_GET_CONFIG": str(tmp_path / "no-get-config"),
        "NGINX_CONF_DIR": str(tmp_path / "conf.d"),
        **env,
    }
    done = subprocess.run(["bash", str(script)], env=environ, capture_output=True, text=True)
    lines = log.read_text().splitlines() if log.exists() else []
    return done.returncode, done.stdout + done.stderr, lines


def test_hooks_are_executable_and_shellcheck_clean() -> None:
    for script in (HOOK, CONFIG_HOOK, MOUNT):
        assert os.access(script, os.X_OK), script
        assert "set -euo pipefail" in script.read_text()
    if shutil.which("shellcheck") is None:
        unavailable("shellcheck not installed")
    done = subprocess.run(
        ["shellcheck", "--severity=style", str(HOOK), str(CONFIG_HOOK)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout


def test_redirect_written_then_removed(stubs: Path, tmp_path: Path) -> None:
    conf = tmp_path / "conf.d" / "ctsite-https-redirect.conf"
    code, out, log = _run(HOOK, stubs, tmp_path, HTTPS_REDIRECT="true")
    assert code == 0, out
    assert "return 301 https://$host$request_uri;" in conf.read_text()
    assert log == ["nginx -t -q", "systemctl reload nginx"]
    assert list(conf.parent.iterdir()) == [conf]  # no temp file left behind

    code, out, log = _run(CONFIG_HOOK, stubs, tmp_path, HTTPS_REDIRECT="false")
    assert code == 0, out
    assert not conf.exists() and "removed" in out
    code, out, _ = _run(HOOK, stubs, tmp_path)
    assert code == 0 and "plain HTTP is served" in out


def test_redirect_failure_is_loud(stubs: Path, tmp_path: Path) -> None:
    (stubs / "nginx").write_text('#!/bin/sh\necho "nginx: [emerg] bad" >&2\nexit 1\n')
    code, out, _ = _run(HOOK, stubs, tmp_path, HTTPS_REDIRECT="true")
    assert code != 0 and "nginx rejected the configuration" in out


def test_mount_hook_uses_dnf_on_amazon_linux_2023(stubs: Path, tmp_path: Path) -> None:
    mount_dir = tmp_path / "efs"
    code, out, log = _run(
        MOUNT, stubs, tmp_path, EFS_FILE_SYSTEM_ID="fs-0123abcd", EFS_MOUNT_DIR=str(mount_dir)
    )
    assert code == 0, out
    assert "dnf install -y -q amazon-efs-utils" in log, out
    assert not any(line.startswith("yum") for line in log)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_redirect_snippet_in_a_real_nginx(stubs: Path, tmp_path: Path) -> None:
    """The snippet the hook writes, included in a server block like the platform's nginx.conf."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        unavailable("nginx not installed (Debian package nginx-light)")
    _run(HOOK, stubs, tmp_path, HTTPS_REDIRECT="true")
    port = _free_port()
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n access_log off;\n server {{\n  listen 127.0.0.1:{port};\n"
        f"  include {tmp_path}/conf.d/*.conf;\n"
        '  location / { return 200 "site\\n"; }\n }\n}\n'
    )
    proc = subprocess.Popen(
        [nginx, "-p", str(tmp_path), "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                requests.get(url + "/healthz", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.05)
        plain = requests.get(
            url + "/figure/circos?x=1",
            headers={"X-Forwarded-Proto": "http", "Host": "ct.example.org"},
            allow_redirects=False,
            timeout=5,
        )
        assert plain.status_code == 301
        assert plain.headers["Location"] == "https://ct.example.org/figure/circos?x=1"
        secure = requests.get(url + "/", headers={"X-Forwarded-Proto": "https"}, timeout=5)
        assert secure.status_code == 200 and secure.text == "site\n"
        health = requests.get(
            url + "/healthz",
            headers={"X-Forwarded-Proto": "http"},
            allow_redirects=False,
            timeout=5,
        )
        assert health.status_code == 200
        direct = requests.get(url + "/", allow_redirects=False, timeout=5)  # no load balancer
        assert direct.status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)
