"""The Elastic Beanstalk deployment workflow: ONE sequence, used by `deploy` and by `release`.

bundle → (dry run: stop with the plan) → environment Ready? → S3 + application version (or an
existing version for a rollback) → the application's version lifecycle (keep eb_keep_versions)
→ update → wait for Ready + Green/Ok, reporting events (or, with `wait=False`, return at once:
`deploy --nohang`). Every option of `ctsite deploy` is a parameter; nothing is printed (progress
goes to the reporter).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ctsite.aws.beanstalk import Beanstalk, check_label, check_ready, version_label
from ctsite.aws.clients import ClientFactory
from ctsite.aws.iam import role_arn
from ctsite.config import Settings
from ctsite.deploy import dockerrun, release_state
from ctsite.deploy.bundle import Bundle, Entry, build_bundle
from ctsite.deploy.reporter import NULL, Reporter
from ctsite.errors import CtsiteError
from ctsite.gitinfo import short_commit

# The configured names a deployment writes into (see `ctsite.config.inherited_names`).
NAMES: tuple[str, ...] = ("eb_application", "eb_environment")


@dataclasses.dataclass(frozen=True)
class EnvironmentState:
    """What `status`, `deploy` and `release` say about the environment."""

    name: str
    application: str
    region: str
    status: str | None
    health: str | None
    health_status: str | None
    version: str | None
    url: str
    updated: dt.datetime | None


@dataclasses.dataclass(frozen=True)
class BundleInfo:
    sha256: str
    size: int
    entries: list[Entry]
    warnings: list[str]


@dataclasses.dataclass(frozen=True)
class DeployResult:
    """A deployment (or, with dry_run, its plan: no AWS call made)."""

    label: str
    new_version: bool
    dry_run: bool
    timeout_minutes: float
    bundle: BundleInfo | None = None
    bundle_url: str = ""
    previous_version: str | None = None
    environment: EnvironmentState | None = None
    steps: list[str] = dataclasses.field(default_factory=list)
    waited: bool = True  # False: started and not followed (--nohang)
    lifecycle: str = ""  # what became of the application's version lifecycle


def url_of(env: dict[str, Any]) -> str:
    host = env.get("CNAME") or env.get("EndpointURL") or ""
    return f"http://{host}" if host else ""


def environment_state(s: Settings, env: dict[str, Any]) -> EnvironmentState:
    return EnvironmentState(
        name=s.eb_environment,
        application=s.eb_application,
        region=s.aws_region,
        status=env.get("Status"),
        health=env.get("Health"),
        health_status=env.get("HealthStatus"),
        version=env.get("VersionLabel"),
        url=url_of(env),
        updated=env.get("DateUpdated"),
    )


def git_commit(root: Path) -> str:
    """The short commit of the project checkout (`-dirty` if tracked files changed), or `nogit`."""
    return short_commit(root, 8, include_untracked=False) or "nogit"


def new_label(root: Path) -> str:
    from ctsite import __version__

    return version_label(__version__, git_commit(root), dt.datetime.now(dt.UTC))


def where(s: Settings) -> str:
    return f"{s.eb_environment} ({s.eb_application}, {s.aws_region})"


def plan_steps(s: Settings, label: str, message: str, new: bool, minutes: float) -> list[str]:
    """The steps of a deployment, in words (the dry run's plan)."""
    steps = []
    if new:
        steps.append(
            f"upload the bundle to the EB storage bucket as {s.eb_application}/{label}.zip"
        )
        steps.append(f"create application version {label}" + (f" ({message!r})" if message else ""))
    else:
        steps.append(f"reuse the existing application version {label}")
    steps.append(f"update environment {where(s)} to {label}")
    steps.append(f"wait up to {minutes:g} min for Ready + Green/Ok")
    return steps


def ensure_lifecycle(s: Settings, client: ClientFactory, eb: Beanstalk) -> str:
    """Make Elastic Beanstalk keep only the newest `eb_keep_versions` application versions.

    Reads the application's lifecycle first and changes it only when it differs; the service
    role (`eb_service_role`) is passed only while EB has none on record. Returns what happened.
    """
    keep = s.eb_keep_versions
    current = eb.version_lifecycle()
    rule = current.get("VersionLifecycleConfig", {}).get("MaxCountRule", {})
    if rule.get("Enabled") and rule.get("MaxCount") == keep:
        return f"version lifecycle already keeps {keep}"
    role = (
        None
        if current.get("ServiceRole")
        else role_arn(client, s.eb_service_role, "eb_service_role")
    )
    eb.set_version_lifecycle(keep, role)
    return f"version lifecycle set: Elastic Beanstalk keeps the newest {keep} versions"


def wait_healthy(
    eb: Beanstalk, label: str, since: dt.datetime, minutes: float, poll: float, reporter: Reporter
) -> dict[str, Any]:
    """Report events and status until the deployment of `label` settles (or fails)."""
    import time

    started = time.monotonic()

    def show(current: dict[str, Any]) -> None:
        elapsed = int(time.monotonic() - started)
        reporter.status(
            f"{eb.environment_name}: {current.get('Status')}, health {current.get('Health')}, "
            f"version {current.get('VersionLabel')} ({elapsed // 60}m{elapsed % 60:02d}s)"
        )

    try:
        outcome = eb.wait_until_healthy(
            label, since, minutes * 60, poll, on_event=reporter.event, on_poll=show
        )
    except KeyboardInterrupt:
        raise CtsiteError(
            f"stopped waiting; the deployment of {label} continues on AWS",
            hint="follow it with `ctsite status`",
            exit_code=130,
        ) from None
    finally:
        reporter.done()
    return dict(outcome.environment)


def deploy(
    s: Settings,
    client: ClientFactory | None,
    *,
    message: str = "",
    version: str | None = None,
    label: str | None = None,
    dry_run: bool = False,
    timeout_minutes: float | None = None,
    poll: float = 5.0,
    project: Path | None = None,
    wait: bool = True,
    origin: str = "deploy",
    check_bundle: Callable[[Bundle], None] | None = None,
    reporter: Reporter = NULL,
) -> DeployResult:
    """Deploy a new version built from `project` (or redeploy `version`) and wait for health.

    `check_bundle` may refuse a bundle before anything is uploaded (the release checks that it
    names the image it pushed). `client` may be None for a dry run. A failure to set the version
    lifecycle is a warning (the deployment goes on; `ctsite versions --prune` still works).
    """
    minutes = timeout_minutes if timeout_minutes is not None else float(s.eb_timeout_minutes)
    if minutes <= 0 or poll <= 0:
        raise CtsiteError("--timeout and --poll must be positive", hint="e.g. --timeout 30")
    if version is not None and label is not None:
        raise CtsiteError("--label and --version exclude each other", hint="pick one")
    with tempfile.TemporaryDirectory(prefix="ctsite-bundle-") as tmp:
        bundle = None
        info = None
        if version is None:
            source = (project or s.root).resolve()
            label = check_label(label or new_label(source))
            bundle = build_bundle(
                source,
                Path(tmp) / f"{label}.zip",
                s.efs_file_system_id,
                s.efs_mount_dir,
                dockerrun.default(s),
            )
            info = BundleInfo(bundle.sha256, bundle.size, bundle.entries, bundle.warnings)
            for warning in bundle.warnings:
                reporter.warn(warning)
            if check_bundle is not None:
                check_bundle(bundle)
        else:
            label = version
        steps = plan_steps(s, label, message, bundle is not None, minutes)
        if dry_run:
            return DeployResult(label, bundle is not None, True, minutes, info, steps=steps)
        if client is None:
            raise CtsiteError("deploy needs AWS clients", hint="internal: pass a client factory")
        eb = Beanstalk(client, s.eb_application, s.eb_environment)
        before = eb.environment()
        check_ready(before)
        bundle_url = ""
        if bundle is None:
            if not eb.version_exists(label):
                raise CtsiteError(
                    f"application version {label!r} not found in {s.eb_application}",
                    hint="list the versions with `ctsite versions`",
                )
        else:
            bundle_url = eb.publish(bundle.path, label, message or f"ctsite {origin} {label}")
            reporter.info(f"uploaded {bundle_url} and created application version {label}")
    try:
        lifecycle = ensure_lifecycle(s, client, eb)
        reporter.info(lifecycle)
    except CtsiteError as exc:
        lifecycle = f"not set: {exc.message}"
        reporter.warn(
            f"could not set the application's version lifecycle: {exc.message} "
            f"({exc.hint or 'prune by hand with `ctsite versions --prune`'})"
        )
    updated = eb.update(label)

    def outcome(env: dict[str, Any], waited: bool) -> DeployResult:
        return DeployResult(
            label,
            bundle is not None,
            False,
            minutes,
            info,
            bundle_url,
            before.get("VersionLabel"),
            environment_state(s, env),
            steps,
            waited=waited,
            lifecycle=lifecycle,
        )

    if not wait:
        reporter.info(f"started deploying {label} to {where(s)} (was {before.get('VersionLabel')})")
        return outcome(updated, waited=False)
    reporter.info(
        f"deploying {label} to {where(s)} (was {before.get('VersionLabel')}); "
        f"waiting up to {minutes:g} min"
    )
    since = (updated.get("DateUpdated") or dt.datetime.now(dt.UTC)) - dt.timedelta(seconds=5)
    final = wait_healthy(eb, label, since, minutes, poll, reporter)
    if bundle is not None and (project is None or project.resolve() == s.root.resolve()):
        # the project's own bundle is now running and healthy: a release skips deploy until
        # the bundle or the running version changes
        digest = dockerrun.pinned_digest(bundle.dockerrun)
        release_state.record_deploy(s.root, label, bundle.sha256, digest)
    return outcome(final, waited=True)
