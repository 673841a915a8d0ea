"""An ephemeral AWS Transfer Family SFTP server: created for one upload, always deleted.

`ephemeral_server(config, client)` is a context manager (`ServerConfig`: explicit values, never
the whole settings): it checks the EFS file system and IAM roles (`ctsite.aws.efs`, `.iam`),
creates a tagged SFTP server on the EFS domain, waits until it is ONLINE, creates the upload user
with a freshly generated SSH key (kept in memory only) and yields an `EphemeralServer` holding the
SFTP endpoint. On leaving — success, exception, Ctrl-C or SIGTERM — the server is deleted; signals
arriving while the server is being created or deleted are held back until that call returns
(`ctsite.lifecycle`'s one rule for stop signals). A deletion that fails never hides how the
upload ended: it is raised only after a successful upload, else kept in `delete_error`.
While it runs, a `Heartbeat` thread refreshes the server's `ctsite:heartbeat` tag every minute,
and a safety-net schedule (`ctsite.aws.scheduler`) deletes the server after
`transfer_max_age_hours` even if this process never runs again; normal teardown removes it.
`find_stray_servers` is THE finder of servers left behind by a crashed run (one rule: tagged
`ctsite:ephemeral=true` and not alive, see `is_alive`), used by `status`, `doctor` and
`upload-data --cleanup`. What a run costs is `ctsite.deploy.pricing`'s. Clients come from an
injected factory (`ctsite.aws.clients.ClientFactory`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import getpass
import logging
import math
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from ctsite.aws import scheduler
from ctsite.aws.clients import ClientFactory, aws_errors, error_code
from ctsite.aws.efs import file_system_state
from ctsite.aws.iam import role_arn
from ctsite.errors import CtsiteError
from ctsite.lifecycle import stop_signals_interrupt
from ctsite.sftp.client import Endpoint

TAG_EPHEMERAL = "ctsite:ephemeral"
TAG_CREATED = "ctsite:created"
TAG_BY = "ctsite:created-by"
TAG_HEARTBEAT = "ctsite:heartbeat"
HEARTBEAT_SECONDS = 60.0  # how often a running upload refreshes its heartbeat tag
STALE_SECONDS = 300.0  # a heartbeat (or, without one, a creation) older than this is dead
DELETE_ATTEMPTS = 6  # botocore standard-mode attempts for DeleteServer

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class StrayServer:
    """A Transfer server tagged as ctsite's (`ctsite:ephemeral=true`) that still exists."""

    server_id: str
    state: str
    created: datetime | None
    created_by: str
    heartbeat: datetime | None = None
    safety_net: datetime | None = None  # when its schedule deletes it (UTC), if it has one

    def is_alive(self, now: datetime | None = None) -> bool:
        """THE liveness rule: a heartbeat younger than STALE_SECONDS, or (no heartbeat) a
        creation younger than that. Only servers that are not alive are strays."""
        latest = self.heartbeat or self.created
        if latest is None:
            return False
        return ((now or datetime.now(UTC)) - latest).total_seconds() < STALE_SECONDS

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
    safety_net: scheduler.SafetyNet | None = None
    deleted: bool = False  # set once teardown has really deleted it
    # why teardown could not delete it (the server still bills); raised itself only when the
    # upload succeeded, never in place of the upload's own failure or stop
    delete_error: CtsiteError | None = None

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started


@dataclasses.dataclass(frozen=True)
class ServerConfig:
    """What an ephemeral server is made from: explicit values (the upload workflow reads them
    from its settings), so this adapter never sees the whole `Settings`."""

    region: str
    efs_file_system_id: str  # "": not configured (refused before any call)
    home_directory: str  # the upload user's home on the EFS domain ("/<fs-id>/...")
    user: str  # the upload user's name
    logging_role: str  # IAM role names
    user_role: str
    scheduler_role: str  # the safety net's role ("": no safety net, silently)
    max_age_hours: float  # when the safety net deletes the server
    hourly_cost: float  # US dollars, quoted when a deletion fails
    online_timeout: int  # seconds to wait for ONLINE
    sftp_host: str  # "": the server's own endpoint
    sftp_port: int
    host_key_fingerprint: str  # "": the keys the server publishes
    stall_timeout: float  # seconds an SFTP read or write may wait


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


def find_stray_servers(
    client: ClientFactory, *, include_live: bool = False, now: datetime | None = None
) -> list[StrayServer]:
    """ctsite's Transfer servers in the region that are not alive (see `StrayServer.is_alive`);
    with `include_live`, every ctsite server. Each carries the time its safety net fires."""
    tc = client("transfer")
    found: list[StrayServer] = []
    with aws_errors("list the Transfer Family servers"):
        for page in tc.get_paginator("list_servers").paginate():
            for summary in page.get("Servers", []):
                server_id = summary["ServerId"]
                server = _describe_if_there(tc, server_id)
                if server is None:  # deleted between list and describe
                    continue
                tags = _tags(server)
                if not is_ctsite_server(tags):
                    continue
                stray = StrayServer(
                    server_id,
                    str(server.get("State", "?")),
                    _parse_time(tags.get(TAG_CREATED, "")),
                    tags.get(TAG_BY, "?"),
                    _parse_time(tags.get(TAG_HEARTBEAT, "")),
                )
                if include_live or not stray.is_alive(now):
                    found.append(stray)
    if found:
        nets = {n.server_id: n.delete_at for n in scheduler.find_quietly(client)}
        found = [dataclasses.replace(s, safety_net=nets.get(s.server_id)) for s in found]
    return found


def _describe_if_there(tc: Any, server_id: str) -> dict[str, Any] | None:
    """The server's description; None when it is gone (ResourceNotFoundException, the only
    code that means so). Any other failure is one clear error."""
    import botocore.exceptions

    with aws_errors(f"describe the Transfer server {server_id}"):
        try:
            return dict(tc.describe_server(ServerId=server_id)["Server"])
        except botocore.exceptions.ClientError as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise
    return None


def _one_line(exc: BaseException) -> str:
    """A botocore failure in one short line (an HTML error page is not shown raw)."""
    import botocore.exceptions

    if isinstance(exc, botocore.exceptions.ClientError):
        err = exc.response.get("Error", {})
        kind, text = f"AWS {err.get('Code', 'Unknown')}", str(err.get("Message") or exc)
    else:
        kind, text = type(exc).__name__, str(exc)
    text = " ".join(text.split())
    if "<html" in text.lower() or "<!doctype" in text.lower():
        text = "the endpoint answered with a web page instead of an AWS response"
    return f"{kind}: {text[:200]}"


def delete_server(
    client: ClientFactory,
    server_id: str,
    region: str,
    hourly_cost: float = 0.30,
    safety_net: datetime | None = None,
) -> bool:
    """Delete one server (botocore retries transient failures); False when it was already gone
    (ResourceNotFoundException, the only code that means so). Any other failure raises a
    CtsiteError naming the server, what it costs per hour and the command that deletes it."""
    import botocore.exceptions
    from botocore.parsers import ResponseParserError

    tc = client("transfer", max_attempts=DELETE_ATTEMPTS)
    try:
        tc.delete_server(ServerId=server_id)
        return True
    except botocore.exceptions.ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return False
        failure: BaseException = exc
    except (botocore.exceptions.BotoCoreError, ResponseParserError) as exc:
        failure = exc
    net = f"; its safety net deletes it at {safety_net:%Y-%m-%d %H:%M} UTC" if safety_net else ""
    raise CtsiteError(
        f"could not delete the Transfer server {server_id} ({_one_line(failure)}); it is still "
        f"running and costs about ${hourly_cost:.2f} per hour{net}",
        hint=f"delete it now: aws transfer delete-server --server-id {server_id} "
        f"--region {region}  (or: ctsite upload-data --cleanup --force)",
    )


# ---------------------------------------------------------------- preflight


def preflight(config: ServerConfig, client: ClientFactory) -> tuple[str, str]:
    """Check the EFS file system exists; return (logging role ARN, user role ARN)."""
    if not config.efs_file_system_id:
        raise CtsiteError(
            "no EFS file system configured",
            hint="set efs_file_system_id in ctsite.toml or CTSITE_EFS_FILE_SYSTEM_ID",
        )
    file_system_state(client, config.efs_file_system_id, config.region)
    return role_arn(client, config.logging_role), role_arn(client, config.user_role)


# ---------------------------------------------------------------- the server itself


def _new_key() -> Any:
    import paramiko

    return paramiko.ECDSAKey.generate(bits=384)


class Heartbeat:
    """Refreshes the server's `ctsite:heartbeat` tag (UTC, to the second) every `interval`
    seconds from a daemon thread, so that cleanup elsewhere knows this upload is alive."""

    def __init__(self, client: ClientFactory, arn: str, interval: float | None = None):
        self.client, self.arn = client, arn
        self.interval = HEARTBEAT_SECONDS if interval is None else interval
        self.beats = 0
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ctsite-heartbeat", daemon=True)

    def beat(self) -> None:
        stamp = datetime.now(UTC).replace(microsecond=0).isoformat()
        try:
            tags = [{"Key": TAG_HEARTBEAT, "Value": stamp}]
            self.client("transfer").tag_resource(Arn=self.arn, Tags=tags)
            self.beats += 1
        except Exception:  # a missed beat is not fatal: the next one may succeed
            self.failures += 1
            log.debug("heartbeat tag on %s failed", self.arn, exc_info=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.beat()

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


@contextlib.contextmanager
def ephemeral_server(
    config: ServerConfig,
    client: ClientFactory,
    status: Callable[[str], None] = lambda _msg: None,
    warn: Callable[[str], None] | None = None,
) -> Iterator[EphemeralServer]:
    """Create, wait for, and always delete an SFTP server with an upload user."""
    logging_role, user_role = preflight(config, client)
    tc = client("transfer")
    now = datetime.now(UTC).replace(microsecond=0)
    who = f"{getpass.getuser()}@{socket.gethostname()}"
    with stop_signals_interrupt() as guard:
        guard.held = True  # a signal now is held until the server id is known
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
                        {"Key": TAG_HEARTBEAT, "Value": now.isoformat()},
                    ],
                )["ServerId"]
        except BaseException:
            guard.held = False
            raise
        server = EphemeralServer(server_id, Endpoint("", 0, "", None, ""), started)
        failed = False
        try:
            server.safety_net = scheduler.arm(
                client, server_id, config.scheduler_role, config.max_age_hours, warn or status
            )
            guard.held = False
            guard.raise_pending()
            status(f"waiting for {server_id} to come ONLINE")
            _wait_online(client, server_id, config.online_timeout)
            server.endpoint = _add_user(client, config, server_id, user_role)
            with aws_errors(f"describe {server_id}"):
                arn = tc.describe_server(ServerId=server_id)["Server"].get("Arn", "")
            with Heartbeat(client, arn):
                yield server
        except BaseException:
            failed = True
            raise
        finally:
            guard.held = True
            _teardown(client, server, config.region, config.hourly_cost, status)
            guard.held = False
            if not failed:  # the upload's own failure or stop goes on, never replaced
                if server.delete_error is not None:
                    raise server.delete_error
                guard.raise_pending()  # a Ctrl-C held during the deletion still stops the run


def _teardown(
    client: ClientFactory,
    server: EphemeralServer,
    region: str,
    hourly_cost: float,
    status: Callable[[str], None],
) -> None:
    """Delete the server, then its safety net; a failed deletion is kept in `delete_error`
    (and the safety net stays: it is the last guard of a server that still bills)."""
    status(f"deleting the Transfer Family server {server.server_id}")
    net = server.safety_net.delete_at if server.safety_net else None
    try:
        delete_server(client, server.server_id, region, hourly_cost, net)
    except CtsiteError as exc:
        server.delete_error = exc
        return
    server.deleted = True
    scheduler.disarm(client, server.server_id)


def _add_user(client: ClientFactory, config: ServerConfig, server_id: str, role: str) -> Endpoint:
    """Create the upload user with a fresh key pair; return the SFTP endpoint to use."""
    key = _new_key()
    tc = client("transfer")
    with aws_errors(f"create the user {config.user} on {server_id}"):
        tc.create_user(
            ServerId=server_id,
            UserName=config.user,
            Role=role,
            HomeDirectoryType="PATH",
            HomeDirectory=config.home_directory,
            PosixProfile={"Uid": 0, "Gid": 0},
            SshPublicKeyBody=f"{key.get_name()} {key.get_base64()} ctsite-upload",
        )
        server = tc.describe_server(ServerId=server_id)["Server"]
    expected = config.host_key_fingerprint or ",".join(_host_keys(client, server))
    host = config.sftp_host or f"{server_id}.server.transfer.{config.region}.amazonaws.com"
    return Endpoint(
        host, config.sftp_port, config.user, key, expected, stall_timeout=config.stall_timeout
    )


def _host_keys(client: ClientFactory, server: dict[str, Any]) -> list[str]:
    """Every host key fingerprint the server publishes (its main one plus any added keys)."""
    found = [server["HostKeyFingerprint"]] if server.get("HostKeyFingerprint") else []
    try:
        with aws_errors(f"list the host keys of {server['ServerId']}"):
            listed = client("transfer").list_host_keys(ServerId=server["ServerId"])
    except CtsiteError:
        return found  # older API / emulators: the main fingerprint alone is checked
    return found + [
        k["HostKeyFingerprint"] for k in listed.get("HostKeys", []) if k.get("HostKeyFingerprint")
    ]


def _wait_online(client: ClientFactory, server_id: str, online_timeout: int) -> None:
    """Wait until the server is ONLINE, at most `online_timeout` seconds (at least 1)."""
    import botocore.exceptions

    timeout = max(1, online_timeout)
    delay = min(15, max(1, timeout // 20))
    with aws_errors(f"wait for {server_id} to come ONLINE"):
        waiter = client("transfer").get_waiter("server_online")
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
                hint="retry later, or raise transfer_online_timeout "
                "(CTSITE_TRANSFER_ONLINE_TIMEOUT)",
            ) from None
