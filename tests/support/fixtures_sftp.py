"""Real protocol peers for the upload tests: an OpenSSH sshd on loopback and moto's AWS server.

`sshd` starts Debian's OpenSSH server with its own config (internal-sftp rooted at a temp dir,
key authentication, its own host key) on a free loopback port. `moto_aws` runs moto's
ThreadedMotoServer, points boto3 at it with AWS_ENDPOINT_URL and fake credentials, and creates the
IAM roles and the EFS file system that `upload-data` expects. `transfer_to_sshd` makes moto's
Transfer Family behave like the real service for login: an SSH key given to a Transfer user is
authorized on the sshd.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.components import unavailable

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"
SFTP_SERVER = "/usr/lib/openssh/sftp-server"
FAULTS = Path(__file__).with_name("sftp_faults.py")
REGION = "us-east-2"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on 127.0.0.1:{port}")


@dataclass
class Sshd:
    """A running sshd: where it listens, where SFTP lands, and its host key fingerprint."""

    port: int
    root: Path  # the SFTP start directory (plays the Transfer user's home on EFS)
    authorized_keys: Path
    fingerprint: str  # as printed by ssh-keygen -l -E sha256
    proc: subprocess.Popen
    config: Path

    def authorize(self, public_key_line: str) -> None:
        with self.authorized_keys.open("a") as f:
            f.write(public_key_line.strip() + "\n")

    def sessions(self) -> list[int]:
        """Pids of the per-connection sshd processes (descendants of the listener)."""
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
        out, todo = [], list(children.get(self.proc.pid, []))
        while todo:
            pid = todo.pop()
            out.append(pid)
            todo.extend(children.get(pid, []))
        return out

    def kill_sessions(self) -> int:
        pids = self.sessions()
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return len(pids)

    def stop(self) -> None:
        self.kill_sessions()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def start(self) -> None:
        """(Re)start the listener with the same config, port and keys."""
        self.proc = _launch(self.config, self.port)


def _launch(config: Path, port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [SSHD, "-D", "-e", "-f", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_port(port)
    return proc


def start_sshd(base: Path, sftp_flags: str = "", faults: Path | None = None) -> Sshd:
    """sshd on loopback; `sftp_flags` go to internal-sftp (`-P posix-rename` makes it
    a server that cannot rename over an existing file, as some SFTP services). With `faults`
    (a rules file), OpenSSH's sftp-server runs behind `sftp_faults.py`, which fails or corrupts
    the writes the rules name."""
    if not Path(SSHD).exists() or not shutil.which("ssh-keygen"):
        unavailable("OpenSSH server not installed (apt-get install openssh-server)")
    if os.geteuid() != 0:
        unavailable("the sshd test peer must run as root")
    Path("/run/sshd").mkdir(parents=True, exist_ok=True)
    etc = base / "sshd"
    etc.mkdir()
    root = base / "efs"
    root.mkdir()
    key = etc / "host_ecdsa"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ecdsa", "-N", "", "-f", str(key)], check=True, timeout=30
    )
    line = subprocess.run(
        ["ssh-keygen", "-l", "-E", "sha256", "-f", str(key) + ".pub"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    fingerprint = line.split()[1]
    subsystem = f"internal-sftp -d {root} {sftp_flags}"
    if faults is not None:
        subsystem = f"{sys.executable} {FAULTS} {faults} -- {SFTP_SERVER} -d {root} {sftp_flags}"
    authorized = etc / "authorized_keys"
    authorized.touch()
    port = free_port()
    config = etc / "sshd_config"
    config.write_text(
        f"""Port {port}
ListenAddress 127.0.0.1
HostKey {key}
PidFile {etc}/sshd.pid
AuthorizedKeysFile {authorized}
StrictModes no
UsePAM no
PermitRootLogin yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
MaxStartups 100
MaxSessions 100
LogLevel ERROR
Subsystem sftp {subsystem}
"""
    )
    return Sshd(port, root, authorized, fingerprint, _launch(config, port), config)


@pytest.fixture
def sftp_server_flags() -> str:
    """Extra internal-sftp flags of the `sshd` fixture (override with parametrize)."""
    return ""


@pytest.fixture
def sftp_faults() -> Path | None:
    """The rules file of the `sshd` fixture's fault proxy (None: no proxy; see
    `tests/support/sftp_faults.py`); a test module overrides this fixture to use one."""
    return None


@pytest.fixture
def sshd(tmp_path: Path, sftp_server_flags: str, sftp_faults: Path | None) -> Iterator[Sshd]:
    server = start_sshd(tmp_path, sftp_server_flags, sftp_faults)
    try:
        yield server
    finally:
        server.stop()


@dataclass
class MotoAws:
    url: str
    efs_id: str
    env: dict[str, str]


@pytest.fixture
def moto_aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> MotoAws:
    """Fresh moto state, fake credentials, the IAM roles and an EFS file system."""
    import boto3
    import requests

    requests.post(f"{moto_endpoint}/moto-api/reset", timeout=10)
    env = {
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "CTSITE_AWS_REGION": REGION,
    }
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    _real_transfer_api(monkeypatch)
    iam = boto3.client("iam", region_name=REGION)
    trust = '{"Version":"2012-10-17","Statement":[]}'
    for role in ("AWSTransferLoggingAccess", "ctsite-transfer-user"):
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust)
    efs = boto3.client("efs", region_name=REGION)
    efs_id = efs.create_file_system(CreationToken="ctsite-test")["FileSystemId"]
    env["CTSITE_EFS_FILE_SYSTEM_ID"] = efs_id
    monkeypatch.setenv("CTSITE_EFS_FILE_SYSTEM_ID", efs_id)
    return MotoAws(moto_endpoint, efs_id, env)


def _real_transfer_api(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bring moto's Transfer API (in this process) closer to AWS: TagResource exists (moto 5.2
    lacks it) and DeleteServer of a missing server answers ResourceNotFoundException."""
    import json

    from moto.core.exceptions import JsonRESTError
    from moto.transfer.models import TransferBackend
    from moto.transfer.responses import TransferResponse

    def tag_resource(self) -> str:
        params = json.loads(self.body)
        server_id = params["Arn"].rsplit("/", 1)[-1]
        server = self.transfer_backend.servers[server_id]
        new = {t["Key"]: t["Value"] for t in params["Tags"]}
        server.tags = [t for t in server.tags if t["Key"] not in new]
        server.tags += [{"Key": k, "Value": v} for k, v in new.items()]
        return "{}"

    original = TransferBackend.delete_server

    def delete_server(self, server_id: str) -> None:
        if server_id not in self.servers:
            raise JsonRESTError("ResourceNotFoundException", f"Unknown server: {server_id}")
        original(self, server_id)

    monkeypatch.setattr(TransferResponse, "tag_resource", tag_resource, raising=False)
    monkeypatch.setattr(TransferBackend, "delete_server", delete_server)


@pytest.fixture
def delete_fails(moto_aws: MotoAws, monkeypatch: pytest.MonkeyPatch):
    """A function making moto's DeleteServer fail with an AWS error; returns the call count."""
    from moto.core.exceptions import JsonRESTError
    from moto.transfer.models import TransferBackend

    calls: list[str] = []

    def arm(code: str, status: int = 400) -> list[str]:
        class Failure(JsonRESTError):
            pass

        Failure.code = status

        def delete_server(self, server_id: str) -> None:
            calls.append(server_id)
            raise Failure(code, "<html><body>Service is down</body></html>")

        monkeypatch.setattr(TransferBackend, "delete_server", delete_server)
        return calls

    return arm


@pytest.fixture
def transfer_servers(moto_aws: MotoAws):
    """A function listing the Transfer servers moto holds right now."""
    import boto3

    def servers() -> list[dict]:
        return boto3.client("transfer", region_name=REGION).list_servers()["Servers"]

    return servers


@pytest.fixture
def transfer_to_sshd(
    moto_aws: MotoAws, sshd: Sshd, monkeypatch: pytest.MonkeyPatch
) -> tuple[MotoAws, Sshd]:
    """moto's Transfer users become sshd logins: their SSH public keys are authorized."""
    from moto.transfer.models import TransferBackend

    original = TransferBackend.create_user

    def create_user(self, *args, **kwargs):
        body = kwargs.get("ssh_public_key_body")
        if body:
            sshd.authorize(body)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(TransferBackend, "create_user", create_user)
    monkeypatch.setenv("CTSITE_SFTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CTSITE_SFTP_PORT", str(sshd.port))
    monkeypatch.setenv("CTSITE_SFTP_HOST_KEY_FINGERPRINT", sshd.fingerprint)
    monkeypatch.setenv("CTSITE_REMOTE_DATA_DIR", "data")
    # The Transfer user maps to uid 0 on EFS; on the test sshd the login must be a system user.
    monkeypatch.setenv("CTSITE_TRANSFER_USER", "root")
    return moto_aws, sshd


@pytest.fixture
def left_behind(moto_aws: MotoAws):
    """A function creating a Transfer server as a crashed ctsite run leaves it: tagged, aged."""
    import boto3

    from ctsite.aws import transfer

    def create(
        hours_old: float, by: str = "someone@somewhere", heartbeat_age_s: float | None = None
    ) -> str:
        created = datetime.now(UTC) - timedelta(hours=hours_old)
        tags = {
            transfer.TAG_EPHEMERAL: "true",
            transfer.TAG_CREATED: created.replace(microsecond=0).isoformat(),
            transfer.TAG_BY: by,
        }
        if heartbeat_age_s is not None:
            beat = datetime.now(UTC) - timedelta(seconds=heartbeat_age_s)
            tags[transfer.TAG_HEARTBEAT] = beat.replace(microsecond=0).isoformat()
        tc = boto3.client("transfer", region_name=REGION)
        return tc.create_server(Tags=[{"Key": k, "Value": v} for k, v in tags.items()])["ServerId"]

    return create
