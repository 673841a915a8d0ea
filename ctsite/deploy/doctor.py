"""Preflight checks for the whole runbook (`ctsite doctor`, and the first step of `release`).

Every check returns a `Check` (ok; warn: ran, passed, but says what to look at; failed with how
to fix it; or skipped because a check it depends on failed: not a failure, it did not run)
instead of raising, so the doctor can report everything at once. AWS calls go
through the adapters of `ctsite.aws`, handed the client factory; the Docker engine is reached
through `docker.from_env()`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

from ctsite.aws.beanstalk import Beanstalk, regions
from ctsite.aws.clients import ClientFactory
from ctsite.aws.efs import check_available
from ctsite.aws.iam import identity, role_arn
from ctsite.aws.transfer import StrayServer, find_stray_servers
from ctsite.config import Settings
from ctsite.errors import CtsiteError
from ctsite.formatting import money
from ctsite.store.versions import manifest_path

STATUSES = ("ok", "warn", "failed", "skipped")


@dataclasses.dataclass(frozen=True)
class Check:
    """The result of one preflight check."""

    name: str
    ok: bool  # it ran and passed (a warning passes); False for failed and for skipped
    detail: str
    fix: str = ""
    skipped: bool = False  # not run (ok is False): a check it needs failed
    warn: bool = False  # passed, but shown with its fix: it does not block anything
    reason: str = ""  # why it was skipped

    @property
    def status(self) -> str:
        """`ok`, `warn`, `failed` or `skipped` (skipped is not a failure: it did not run)."""
        if self.skipped:
            return "skipped"
        if not self.ok:
            return "failed"
        return "warn" if self.warn else "ok"

    @property
    def state(self) -> str:
        """`passed`, `failed` or `skipped` (the JSON's older field; a warning passed)."""
        return {"ok": "passed", "warn": "passed"}.get(self.status, self.status)

    def to_json(self) -> dict[str, object]:
        """The JSON form: `ok` is true/false for checks that ran and null for skipped ones."""
        return {
            "name": self.name,
            "status": self.status,
            "ok": None if self.skipped else self.ok,
            "detail": self.detail,
            "fix": self.fix,
            "reason": self.reason,
            "state": self.state,
        }


def skipped(name: str, why: str) -> Check:
    """A check that was not run, and why."""
    return Check(name, False, f"skipped: {why}", skipped=True, reason=why)


def warning(name: str, detail: str, fix: str) -> Check:
    """A check that passed but has something to say (shown, never blocking)."""
    return Check(name, True, detail, fix, warn=True)


@dataclasses.dataclass(frozen=True)
class DoctorResult:
    checks: list[Check]

    @property
    def passed(self) -> list[Check]:
        return [c for c in self.checks if c.ok]

    @property
    def failed(self) -> list[Check]:
        """The checks that ran and failed (each with its fix)."""
        return [c for c in self.checks if not c.ok and not c.skipped]

    @property
    def skipped(self) -> list[Check]:
        """The checks not run (a check they need failed): not failures themselves."""
        return [c for c in self.checks if c.skipped]

    @property
    def warnings(self) -> list[Check]:
        """Passed checks with something to look at (counted as passed; never blocking)."""
        return [c for c in self.checks if c.status == "warn"]

    @property
    def ok(self) -> bool:
        """No check failed (a skipped check only ever follows a failed one)."""
        return not self.failed

    def summary(self) -> str:
        """`7 passed, 1 failed, 2 skipped (of 10 checks); 1 warning`."""
        warned = len(self.warnings)
        tail = f"; {warned} warning{'s' if warned != 1 else ''}" if warned else ""
        return (
            f"{len(self.passed)} passed, {len(self.failed)} failed, {len(self.skipped)} skipped "
            f"(of {len(self.checks)} checks){tail}"
        )


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
    if not settings.data:
        fix = "run `ctsite init` (it writes the [data] section), then `ctsite compile`"
    if not manifest.is_file():
        return Check(name, False, f"{manifest} not found", fix)
    try:
        doc = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return Check(name, False, f"{manifest} is not valid JSON: {exc}", fix)
    if not isinstance(doc, dict) or "schema_version" not in doc:
        return Check(name, False, f"{manifest} has no schema_version", fix)
    return Check(name, True, f"{settings.compiled_path} (schema {doc['schema_version']})")


DEFAULT_TITLE = Settings().site_title


def check_site_identity(settings: Settings) -> Check:
    """Warn (never fail) while `[site]` still says what ctsite says out of the box: the built-in
    title, `init`'s placeholder about text, no citation or DOI — a site that does not yet speak
    for its own study. Fail on a value `compile` refuses (a DOI that is none, a link that is not
    http(s)): the release would stop at its compile."""
    from ctsite.compile.init_toml import ABOUT_PLACEHOLDER
    from ctsite.identity import site_identity

    name = "site identity"
    try:
        site_identity(settings)
    except CtsiteError as exc:
        return Check(name, False, exc.message, exc.hint or "fix it in ctsite.toml")
    gaps = []
    if settings.site_title.strip() == DEFAULT_TITLE:
        gaps.append(f"title is the built-in {DEFAULT_TITLE!r}")
    if settings.site_about.strip() == ABOUT_PLACEHOLDER:
        gaps.append("about is the init placeholder")
    if not settings.site_citation.strip() and not settings.site_doi.strip():
        gaps.append("no citation or doi set")
    if gaps:
        fix = "set [site] title, about, citation and doi in ctsite.toml (the next compile applies them)"
        return warning(name, "; ".join(gaps), fix)
    return Check(name, True, settings.site_title)


def check_deployment_files(settings: Settings) -> Check:
    """Which deployment files `deploy` and `build-push` use: the project's own or ctsite's
    packaged copies (`ctsite.deploy.files`); a project file overrides its packaged copy."""
    from ctsite.deploy.files import in_use

    used = in_use(settings.root)
    by_source = {
        source: [r.name for r in used if r.source == source] for source in ("project", "packaged")
    }
    detail = "; ".join(
        f"{source}: {', '.join(names)}" for source, names in by_source.items() if names
    )
    missing = [
        n
        for n in (".ebignore", "Dockerfile", "Dockerrun.aws.json")
        if n not in {r.name for r in used}
    ]
    if missing:
        return Check(
            "deployment files",
            False,
            f"not found: {', '.join(missing)}",
            "reinstall ctsite (its packaged copies are missing)",
        )
    return Check("deployment files", True, detail)


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
    checks: list[Check] = []

    def who() -> str:
        found = identity(client)
        return f"account {found['Account']} as {found['Arn']}"

    checks.append(_aws_check("AWS credentials", who))
    aws_ok = checks[-1].ok

    def aws_check(name: str, probe: Callable[[], str]) -> Check:
        """Skip the AWS checks once the credentials check failed (each would only repeat it)."""
        if not aws_ok:
            return skipped(name, "needs AWS credentials (that check failed)")
        return _aws_check(name, probe)

    if settings.aws_region in regions():
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
    eb = Beanstalk(client, settings.eb_application, settings.eb_environment)

    def application() -> str:
        if not eb.application_exists():
            raise CtsiteError(
                f"application {settings.eb_application!r} not found in {settings.aws_region}",
                hint="create it in the EB console or fix eb_application / aws_region",
            )
        return settings.eb_application

    def environment() -> str:
        env = eb.environment()
        return f"{settings.eb_environment}: {env.get('Status')}, health {env.get('Health')}"

    def efs() -> str:
        return check_available(client, settings.efs_file_system_id, settings.aws_region)

    checks.append(aws_check("EB application", application))
    checks.append(aws_check("EB environment", environment))
    checks.append(aws_check("EFS file system", efs))
    for key in ("transfer_logging_role", "transfer_user_role"):
        role = str(getattr(settings, key))

        def get_role(role: str = role, key: str = key) -> str:
            return role_arn(client, role, key)

        checks.append(aws_check(f"IAM role {key}", get_role))
    checks.append(check_deployment_files(settings))
    checks.append(check_docker(docker_ping))
    checks.append(check_compiled(settings))
    checks.append(check_site_identity(settings))

    def stray() -> str:
        servers = find_stray_servers(client)
        if servers:
            ids = ", ".join(describe_server(s, settings.transfer_hourly_cost) for s in servers)
            raise CtsiteError(
                f"still running: {ids}",
                hint="delete them: ctsite upload-data --cleanup "
                "(or aws transfer delete-server --server-id <id>)",
            )
        return "none"

    checks.append(aws_check("stray Transfer servers", stray))
    return checks


def describe_server(server: StrayServer, hourly: float) -> str:
    """`id (STATE, up since …, $x so far)`: one stray server in words."""
    cost = server.cost(hourly)
    shown = f"{money(cost)} so far" if cost is not None else "cost unknown"
    since = f", up since {server.created:%Y-%m-%d %H:%M} UTC" if server.created else ""
    net = server.safety_net
    shown += f", safety net deletes it at {net:%Y-%m-%d %H:%M} UTC" if net else ", no safety net"
    shown += ", upload alive" if server.is_alive() else ""
    return f"{server.server_id} ({server.state}{since}, {shown})"


def doctor(
    settings: Settings, client: ClientFactory, docker_ping: Callable[[], Any] | None = None
) -> DoctorResult:
    """`ctsite doctor`: every preflight check, as one result."""
    return DoctorResult(run_checks(settings, client, docker_ping))
