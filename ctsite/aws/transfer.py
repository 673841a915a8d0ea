"""An ephemeral AWS Transfer Family SFTP server: created for one upload, always deleted.

`ephemeral_server(settings)` is a context manager: it checks the EFS file system and IAM roles,
creates a tagged SFTP server on the EFS domain, waits until it is ONLINE, creates the upload user
with a freshly generated SSH key (kept in memory only) and yields an `EphemeralServer` holding the
SFTP endpoint. On leaving — success, exception, Ctrl-C or SIGTERM — the server is deleted; signals
arriving while the server is being created or deleted are held back until that call returns.
`find_stray_servers` is THE finder of servers left behind by a crashed run (one tag rule,
`is_ctsite_server`), used by `status`, `doctor` and `upload-data --cleanup`; `estimate_cost`
prices a run from the configured hourly and per-GB rates. Clients come from an injected factory.
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

from ctsite.aws.clients import ClientFactory, aws_errors, describe_error, error_code
from ctsite.aws.efs import file_system_state
from ctsite.aws.iam import role_arn
from ctsite.config import Settings
from ctsite.errors import CtsiteError
from ctsite.sftp.client import Endpoint

TAG_EPHEMERAL = "ctsite:ephemeral"
TAG_CREATED = "ctsite:created"
TAG_BY = "ctsite:created-by"


@dataclasses.dataclass(frozen=True)
class StrayServer:
    """A Transfer server tagged as ctsite's (`ctsite:ephemeral=true`) that still exists."""

    server_id: str
    state: str
    created: datetime | None
    created_by: str

    def age_hours(self, now: datetime | None = None) -> float | None:
        if self.created is None:
            return None
        return ((now or datetime.now(UTC)) - self.created).total_seconds() / 3600

    def cost(self, hourly: float, now: datetime | None = None) -> float | None:
        """US dollars billed so far at `hourly` (None when the creation time is unknown)."""
        age = self.age_hours(now)
        return None if age is None else max(0.0, age) * hourly


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


# ---------------------------------------------------------------- stray servers


def _tags(server: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in server.get("Tags") or []}


def _parse_time(value: str) -> datetime | None:
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def is_ctsite_server(tags: dict[str, str]) -> bool:
    """THE rule: a server is ctsite's to report and delete when tagged ctsite:ephemeral=true."""
    return tags.get(TAG_EPHEMERAL) == "true"


def find_stray_servers(client: ClientFactory) -> list[StrayServer]:
    """Every Transfer server in the region that ctsite created (see `is_ctsite_server`)."""
    tc = client("transfer")
    found: list[StrayServer] = []
    with aws_errors("list the Transfer Family servers"):
        for page in tc.get_paginator("list_servers").paginate():
            for summary in page.get("Servers", []):
                server_id = summary["ServerId"]
                try:
                    server = tc.describe_server(ServerId=server_id)["Server"]
                except Exception:  # noqa: S112 - deleted between list and describe
                    continue
                tags = _tags(server)
                if not is_ctsite_server(tags):
                    continue
                found.append(
                    StrayServer(
                        server_id,
                        str(server.get("State", "?")),
                        _parse_time(tags.get(TAG_CREATED, "")),
                        tags.get(TAG_BY, "?"),
                    )
                )
    return found


def delete_server(client: ClientFactory, server_id: str, region: str) -> None:
    """Delete one server; a server that is already gone counts as deleted."""
    import botocore.exceptions

    tc = client("transfer")
    last: Exception | None = None
    for attempt in range(5):
        try:
            tc.delete_server(ServerId=server_id)
            return
        except botocore.exceptions.ClientError as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return
            last = exc
        except botocore.exceptions.BotoCoreError as exc:
            last = exc
        time.sleep(min(8.0, 0.5 * 2**attempt))
    assert last is not None
    error = describe_error(f"delete the Transfer server {server_id}", last)
    raise CtsiteError(
        error.message,
        hint=f"delete it by hand now (it bills by the hour): "
        f"aws transfer delete-server --server-id {server_id} --region {region}",
    )


# ---------------------------------------------------------------- preflight


def preflight(settings: Settings, client: ClientFactory) -> tuple[str, str]:
    """Check the EFS file system exists; return (logging role ARN, user role ARN)."""
    if not settings.efs_file_system_id:
        raise CtsiteError(
            "no EFS file system configured",
            hint="set efs_file_system_id in ctsite.toml or CTSITE_EFS_FILE_SYSTEM_ID",
        )
    file_system_state(client, settings.efs_file_system_id, settings.aws_region)
    return (
        role_arn(client, settings.transfer_logging_role),
        role_arn(client, settings.transfer_user_role),
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
    settings: Settings, client: ClientFactory, status: Callable[[str], None] = lambda _msg: None
) -> Iterator[EphemeralServer]:
    """Create, wait for, and always delete an SFTP server with an upload user."""
    logging_role, user_role = preflight(settings, client)
    tc = client("transfer")
    now = datetime.now(UTC).replace(microsecond=0)
    who = f"{getpass.getuser()}@{socket.gethostname()}"
    with _SignalGuard() as guard:
        guard.shielded = True  # a signal now is held until the server id is known
        status("creating the Transfer Family server")
        started = time.monotonic()  # billing starts with the request
        try:
            with aws_errors("create the Transfer Family server"):
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
            delete_server(client, server_id, settings.aws_region)


def _add_user(settings: Settings, tc: Any, server_id: str, role: str) -> Endpoint:
    """Create the upload user with a fresh key pair; return the SFTP endpoint to use."""
    key = _new_key()
    with aws_errors(f"create the user {settings.transfer_user} on {server_id}"):
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
        raise describe_error(f"wait for {server_id} to come ONLINE", exc) from None
