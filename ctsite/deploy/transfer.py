"""An ephemeral AWS Transfer Family SFTP server: created for one upload, always deleted.

`ephemeral_server(settings)` is a context manager: it checks the EFS file system and IAM roles,
creates a tagged SFTP server on the EFS domain, waits until it is ONLINE, creates the upload user
with a freshly generated SSH key (kept in memory only) and yields an `EphemeralServer` holding the
SFTP endpoint. On leaving — success, exception, Ctrl-C or SIGTERM — the server is deleted; signals
arriving while the server is being created or deleted are held back until that call returns.
`find_orphans` / `sweep` list and delete servers left behind by a crashed run; `estimate_cost`
prices a run from the configured hourly and per-GB rates.
"""

from __future__ import annotations

import contextlib
import dataclasses
import getpass
import math
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from ctsite.config import Settings
from ctsite.deploy import aws
from ctsite.deploy.sftp import Endpoint
from ctsite.errors import CtsiteError

TAG_EPHEMERAL = "ctsite:ephemeral"
TAG_CREATED = "ctsite:created"
TAG_BY = "ctsite:created-by"


@dataclasses.dataclass(frozen=True)
class ServerInfo:
    """A Transfer server tagged as ctsite's, as seen by the orphan sweep."""

    server_id: str
    state: str
    created: datetime | None
    created_by: str

    def age_hours(self, now: datetime | None = None) -> float | None:
        if self.created is None:
            return None
        return ((now or datetime.now(UTC)) - self.created).total_seconds() / 3600


@dataclasses.dataclass
class EphemeralServer:
    """The live server of this run and how to reach it over SFTP."""

    server_id: str
    endpoint: Endpoint
    started: float  # time.monotonic() at creation

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started


def estimate_cost(settings: Settings, seconds: float, upload_bytes: int) -> float:
    """US dollars: server time at the hourly rate plus data at the per-GB rate."""
    hours = seconds / 3600
    return hours * settings.transfer_hourly_cost + upload_bytes / 1e9 * settings.transfer_gb_cost


# ---------------------------------------------------------------- orphan sweep


def _tags(server: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in server.get("Tags") or []}


def find_orphans(settings: Settings) -> list[ServerInfo]:
    """Every Transfer server in the region tagged ctsite:ephemeral=true."""
    tc = aws.client(settings, "transfer")
    found: list[ServerInfo] = []
    with aws.aws_errors("list the Transfer Family servers"):
        for page in tc.get_paginator("list_servers").paginate():
            for summary in page.get("Servers", []):
                server_id = summary["ServerId"]
                try:
                    server = tc.describe_server(ServerId=server_id)["Server"]
                except Exception:  # noqa: S112 - deleted between list and describe
                    continue
                tags = _tags(server)
                if tags.get(TAG_EPHEMERAL) != "true":
                    continue
                try:
                    created = datetime.fromisoformat(tags.get(TAG_CREATED, ""))
                except ValueError:
                    created = None
                found.append(
                    ServerInfo(
                        server_id, str(server.get("State", "?")), created, tags.get(TAG_BY, "?")
                    )
                )
    return found


def delete_server(settings: Settings, server_id: str, tc: Any = None) -> None:
    """Delete one server; a server that is already gone counts as deleted."""
    import botocore.exceptions

    tc = tc or aws.client(settings, "transfer")
    last: Exception | None = None
    for attempt in range(5):
        try:
            tc.delete_server(ServerId=server_id)
            return
        except botocore.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return
            last = exc
        except botocore.exceptions.BotoCoreError as exc:
            last = exc
        time.sleep(min(8.0, 0.5 * 2**attempt))
    assert last is not None
    error = aws.describe_error(f"delete the Transfer server {server_id}", last)
    raise CtsiteError(
        error.message,
        hint=f"delete it by hand now (it bills by the hour): "
        f"aws transfer delete-server --server-id {server_id} --region {settings.aws_region}",
    )


# ---------------------------------------------------------------- preflight


def preflight(settings: Settings) -> tuple[str, str]:
    """Check the EFS file system exists; return (logging role ARN, user role ARN)."""
    if not settings.efs_file_system_id:
        raise CtsiteError(
            "no EFS file system configured",
            hint="set efs_file_system_id in ctsite.toml or CTSITE_EFS_FILE_SYSTEM_ID",
        )
    efs = aws.client(settings, "efs")
    with aws.aws_errors(f"find the EFS file system {settings.efs_file_system_id}"):
        efs.describe_file_systems(FileSystemId=settings.efs_file_system_id)
    return (
        aws.role_arn(settings, settings.transfer_logging_role),
        aws.role_arn(settings, settings.transfer_user_role),
    )


# ---------------------------------------------------------------- the server itself


class _SignalGuard:
    """SIGINT/SIGTERM raise KeyboardInterrupt, except while shielded (then held until after)."""

    def __init__(self) -> None:
        self.shielded = False
        self.pending: int | None = None
        self.saved: dict[int, Any] = {}

    def _handler(self, signum: int, frame: Any) -> None:
        if self.shielded:
            self.pending = signum
            return
        raise KeyboardInterrupt(signal.Signals(signum).name)

    def __enter__(self) -> _SignalGuard:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self.saved[sig] = signal.signal(sig, self._handler)
        return self

    def __exit__(self, *exc: Any) -> None:
        for sig, handler in self.saved.items():
            signal.signal(sig, handler)

    def raise_pending(self) -> None:
        if self.pending is not None:
            name = signal.Signals(self.pending).name
            self.pending = None
            raise KeyboardInterrupt(name)


def _new_key() -> Any:
    import paramiko

    return paramiko.ECDSAKey.generate(bits=384)


@contextlib.contextmanager
def ephemeral_server(
    settings: Settings, status: Callable[[str], None] = lambda _msg: None
) -> Iterator[EphemeralServer]:
    """Create, wait for, and always delete an SFTP server with an upload user."""
    logging_role, user_role = preflight(settings)
    tc = aws.client(settings, "transfer")
    now = datetime.now(UTC).replace(microsecond=0)
    who = f"{getpass.getuser()}@{socket.gethostname()}"
    with _SignalGuard() as guard:
        guard.shielded = True  # a signal now is held until the server id is known
        status("creating the Transfer Family server")
        started = time.monotonic()  # billing starts with the request
        try:
            with aws.aws_errors("create the Transfer Family server"):
                server_id = tc.create_server(
                    Domain="EFS",
                    EndpointType="PUBLIC",
                    IdentityProviderType="SERVICE_MANAGED",
                    Protocols=["SFTP"],
                    LoggingRole=logging_role,
                    Tags=[
                        {"Key": TAG_EPHEMERAL, "Value": "true"},
                        {"Key": TAG_CREATED, "Value": now.isoformat()},
                        {"Key": TAG_BY, "Value": who},
                    ],
                )["ServerId"]
        except BaseException:
            guard.shielded = False
            raise
        try:
            guard.shielded = False
            guard.raise_pending()
            status(f"waiting for {server_id} to come ONLINE")
            _wait_online(settings, tc, server_id)
            yield EphemeralServer(server_id, _add_user(settings, tc, server_id, user_role), started)
        finally:
            guard.shielded = True
            status(f"deleting the Transfer Family server {server_id}")
            delete_server(settings, server_id, tc)


def _add_user(settings: Settings, tc: Any, server_id: str, role: str) -> Endpoint:
    """Create the upload user with a fresh key pair; return the SFTP endpoint to use."""
    key = _new_key()
    with aws.aws_errors(f"create the user {settings.transfer_user} on {server_id}"):
        tc.create_user(
            ServerId=server_id,
            UserName=settings.transfer_user,
            Role=role,
            HomeDirectoryType="PATH",
            HomeDirectory=settings.home_directory,
            PosixProfile={"Uid": 0, "Gid": 0},
            SshPublicKeyBody=f"{key.get_name()} {key.get_base64()} ctsite-upload",
        )
        server = tc.describe_server(ServerId=server_id)["Server"]
    expected = settings.sftp_host_key_fingerprint or ",".join(_host_keys(tc, server))
    host = settings.sftp_host or f"{server_id}.server.transfer.{settings.aws_region}.amazonaws.com"
    return Endpoint(host, settings.sftp_port, settings.transfer_user, key, expected)


def _host_keys(tc: Any, server: dict[str, Any]) -> list[str]:
    """Every host key fingerprint the server publishes (its main one plus any added keys)."""
    import botocore.exceptions

    found = [server["HostKeyFingerprint"]] if server.get("HostKeyFingerprint") else []
    try:
        listed = tc.list_host_keys(ServerId=server["ServerId"]).get("HostKeys", [])
        found += [k["HostKeyFingerprint"] for k in listed if k.get("HostKeyFingerprint")]
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError):
        pass  # older API / emulators: the main fingerprint alone is checked
    return found


def _wait_online(settings: Settings, tc: Any, server_id: str) -> None:
    import botocore.exceptions

    timeout = max(1, settings.transfer_online_timeout)
    delay = min(15, max(1, timeout // 20))
    waiter = tc.get_waiter("server_online")
    try:
        waiter.wait(
            ServerId=server_id,
            WaiterConfig={"Delay": delay, "MaxAttempts": max(1, math.ceil(timeout / delay))},
        )
    except botocore.exceptions.WaiterError as exc:
        state = (exc.last_response or {}).get("Server", {}).get("State", "unknown")
        raise CtsiteError(
            f"Transfer server {server_id} did not come ONLINE within {timeout} s "
            f"(last state {state}); it is being deleted",
            hint="retry later, or raise transfer_online_timeout (CTSITE_TRANSFER_ONLINE_TIMEOUT)",
        ) from None
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        raise aws.describe_error(f"wait for {server_id} to come ONLINE", exc) from None
