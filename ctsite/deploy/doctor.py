"""Preflight checks for the whole runbook (`ctsite doctor`), and the stray Transfer server finder.

Every check returns a `Check` (✓/✗, what was found, how to fix a ✗) instead of raising, so the
doctor can report everything at once. AWS clients come from an injected factory
(`service name → boto3 client`), the Docker engine from `docker.from_env()`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from ctsite.config import Settings
from ctsite.deploy.aws import aws_errors
from ctsite.errors import CtsiteError
from ctsite.store.versions import manifest_path

ClientFactory = Callable[[str], Any]
EPHEMERAL_TAG = "ctsite:ephemeral"
CREATED_TAG = "ctsite:created"


@dataclasses.dataclass(frozen=True)
class Check:
    """The result of one preflight check."""

    name: str
    ok: bool
    detail: str
    fix: str = ""


@dataclasses.dataclass(frozen=True)
class StrayServer:
    """A Transfer Family server created by ctsite that is still there."""

    server_id: str
    state: str
    created: dt.datetime | None
    cost: float | None

    def describe(self) -> str:
        cost = f"${self.cost:.2f} so far" if self.cost is not None else "cost unknown"
        since = f", up since {self.created:%Y-%m-%d %H:%M} UTC" if self.created else ""
        return f"{self.server_id} ({self.state}{since}, {cost})"


def _parse_time(value: str) -> dt.datetime | None:
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def stray_transfer_servers(
    transfer: Any, hourly_cost: float, now: dt.datetime | None = None
) -> list[StrayServer]:
    """Transfer servers tagged `ctsite:ephemeral`, with the hourly cost accrued so far."""
    now = now or dt.datetime.now(dt.UTC)
    found: list[StrayServer] = []
    with aws_errors("list the Transfer Family servers"):
        for page in transfer.get_paginator("list_servers").paginate():
            for summary in page.get("Servers", []):
                server = transfer.describe_server(ServerId=summary["ServerId"])["Server"]
                tags = {t["Key"]: t["Value"] for t in server.get("Tags", [])}
                if EPHEMERAL_TAG not in tags:
                    continue
                created = _parse_time(tags.get(CREATED_TAG, "")) or _parse_time(tags[EPHEMERAL_TAG])
                cost = None
                if created is not None:
                    cost = max(0.0, (now - created).total_seconds() / 3600) * hourly_cost
                found.append(
                    StrayServer(server["ServerId"], str(server.get("State")), created, cost)
                )
    return found


def _aws_check(name: str, probe: Callable[[], str]) -> Check:
    """Run one AWS probe; a CtsiteError becomes a ✗ with its hint as the fix."""
    try:
        return Check(name, True, probe())
    except CtsiteError as exc:
        return Check(name, False, exc.message, exc.hint or "")


def check_compiled(settings: Settings) -> Check:
    name = "compiled data"
    manifest = manifest_path(settings.compiled_path)
    fix = "run `ctsite compile` (or set compiled_dir)"
    if not manifest.is_file():
        return Check(name, False, f"{manifest} not found", fix)
    try:
        doc = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return Check(name, False, f"{manifest} is not valid JSON: {exc}", fix)
    if not isinstance(doc, dict) or "schema_version" not in doc:
        return Check(name, False, f"{manifest} has no schema_version", fix)
    return Check(name, True, f"{settings.compiled_path} (schema {doc['schema_version']})")


def check_docker(ping: Callable[[], Any] | None = None) -> Check:
    name = "Docker engine"
    fix = "start Docker (dockerd / Docker Desktop) or set DOCKER_HOST"
    try:
        if ping is None:
            import docker

            client = docker.from_env(timeout=10)
            try:
                client.ping()
                version = client.version().get("Version", "?")
            finally:
                client.close()
        else:
            ping()
            version = "?"
    except ImportError:
        return Check(name, False, "the docker Python SDK is not installed", "pip install docker")
    except Exception as exc:  # docker raises DockerException, requests and OS errors
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return Check(name, False, f"not reachable: {first}", fix)
    return Check(name, True, f"reachable (engine {version})")


def run_checks(
    settings: Settings, client: ClientFactory, docker_ping: Callable[[], Any] | None = None
) -> list[Check]:
    """All preflight checks, in runbook order."""
    import boto3

    checks: list[Check] = []

    def identity() -> str:
        with aws_errors("check the AWS credentials (sts get-caller-identity)"):
            who = client("sts").get_caller_identity()
        return f"account {who['Account']} as {who['Arn']}"

    checks.append(_aws_check("AWS credentials", identity))
    aws_ok = checks[-1].ok

    def aws_check(name: str, probe: Callable[[], str]) -> Check:
        """Skip the AWS checks once the credentials check failed (each would only repeat it)."""
        if not aws_ok:
            return Check(name, False, "skipped: AWS credentials check failed", "fix that first")
        return _aws_check(name, probe)

    regions = boto3.session.Session().get_available_regions("elasticbeanstalk")
    if settings.aws_region in regions:
        checks.append(Check("region", True, settings.aws_region))
    else:
        checks.append(
            Check(
                "region",
                False,
                f"{settings.aws_region!r} is not an Elastic Beanstalk region",
                "set aws_region in ctsite.toml or CTSITE_AWS_REGION (e.g. us-east-2)",
            )
        )

    def application() -> str:
        with aws_errors(f"describe the application {settings.eb_application!r}"):
            apps = client("elasticbeanstalk").describe_applications(
                ApplicationNames=[settings.eb_application]
            )["Applications"]
        if not any(a.get("ApplicationName") == settings.eb_application for a in apps):
            raise CtsiteError(
                f"application {settings.eb_application!r} not found in {settings.aws_region}",
                hint="create it in the EB console or fix eb_application / aws_region",
            )
        return settings.eb_application

    def environment() -> str:
        with aws_errors(f"describe the environment {settings.eb_environment!r}"):
            envs = client("elasticbeanstalk").describe_environments(
                ApplicationName=settings.eb_application,
                EnvironmentNames=[settings.eb_environment],
                IncludeDeleted=False,
            )["Environments"]
        envs = [e for e in envs if e.get("EnvironmentName") == settings.eb_environment]
        if not envs:
            raise CtsiteError(
                f"environment {settings.eb_environment!r} not found",
                hint="create it in the EB console or fix eb_environment",
            )
        env = envs[0]
        return f"{settings.eb_environment}: {env.get('Status')}, health {env.get('Health')}"

    def efs() -> str:
        if not settings.efs_file_system_id:
            raise CtsiteError(
                "efs_file_system_id is not set",
                hint="set efs_file_system_id in ctsite.toml or CTSITE_EFS_FILE_SYSTEM_ID",
            )
        try:
            with aws_errors(f"describe the EFS file system {settings.efs_file_system_id}"):
                fs = client("efs").describe_file_systems(FileSystemId=settings.efs_file_system_id)
        except CtsiteError as exc:
            if "FileSystemNotFound" in exc.message:
                raise CtsiteError(
                    f"EFS file system {settings.efs_file_system_id} not found in "
                    f"{settings.aws_region}",
                    hint="fix efs_file_system_id (CTSITE_EFS_FILE_SYSTEM_ID) or aws_region",
                ) from None
            raise
        state = fs["FileSystems"][0].get("LifeCycleState", "?")
        if state != "available":
            raise CtsiteError(f"{settings.efs_file_system_id} is {state}", hint="wait or fix it")
        return f"{settings.efs_file_system_id} ({state})"

    checks.append(aws_check("EB application", application))
    checks.append(aws_check("EB environment", environment))
    checks.append(aws_check("EFS file system", efs))
    for key in ("transfer_logging_role", "transfer_user_role"):
        role = str(getattr(settings, key))

        def get_role(role: str = role, key: str = key) -> str:
            try:
                with aws_errors(f"find the IAM role {role!r} ({key})"):
                    arn = client("iam").get_role(RoleName=role)["Role"]["Arn"]
            except CtsiteError as exc:
                if "NoSuchEntity" in exc.message:
                    raise CtsiteError(
                        f"IAM role {role!r} not found",
                        hint=f"create it in IAM, or set {key} (CTSITE_{key.upper()})",
                    ) from None
                raise
            return str(arn)

        checks.append(aws_check(f"IAM role {key}", get_role))
    checks.append(check_docker(docker_ping))
    checks.append(check_compiled(settings))

    def stray() -> str:
        servers = stray_transfer_servers(client("transfer"), settings.transfer_hourly_cost)
        if servers:
            ids = ", ".join(s.describe() for s in servers)
            raise CtsiteError(
                f"still running: {ids}",
                hint="delete them: aws transfer delete-server --server-id <id>",
            )
        return "none"

    checks.append(aws_check("stray Transfer servers", stray))
    return checks
