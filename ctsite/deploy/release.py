"""The `ctsite release` workflow: observe the state, plan, then run the SAME workflows as the
single commands (compile, figures, build-push, upload-data, deploy, restart) with the release's
flags passed through, and record what a release must remember (pushed digest, deployed version).

`prepare` runs the doctor, observes (reads only) and plans; the caller shows the plan and asks
for confirmation; `execute` runs the chosen steps and stops at the first failure
(`release_plan.ReleaseFailed`). Nothing here prints or prompts.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ctsite.aws import ecr
from ctsite.aws.beanstalk import Beanstalk, check_label
from ctsite.aws.clients import ClientFactory
from ctsite.config import Settings
from ctsite.deploy import dockerrun, release_plan, release_state
from ctsite.deploy.deploy import NAMES as DEPLOY_NAMES
from ctsite.deploy.deploy import EnvironmentState, environment_state
from ctsite.deploy.doctor import Check, run_checks
from ctsite.deploy.pricing import Rates
from ctsite.deploy.release_plan import Decision, Observed, StepResult
from ctsite.deploy.reporter import NULL, Reporter
from ctsite.errors import CtsiteError
from ctsite.store.versions import manifest_path

DOCKERFILE = release_state.DOCKERFILE
# The configured names a release writes into: its image's repository and its environment.
NAMES: tuple[str, ...] = ("image_repository", *DEPLOY_NAMES)


def image_inputs_hash(s: Settings) -> str:
    """The content hash of what goes into the image (build context and build settings)."""
    from ctsite.deploy.files import image_context

    with image_context(s.root) as (context, _):
        return release_state.image_inputs_hash(context, s.image_name, s.docker_platform)


def _tree_bytes(root: Path) -> int:
    total = 0
    for dirpath, _, names in os.walk(root):
        for name in names:
            try:
                total += (Path(dirpath) / name).stat().st_size
            except OSError:
                continue
    return total


def figures_present(store: Path) -> bool:
    """Whether the store's current version has precomputed figures the site will use (their
    index of digests written: views without one are never served)."""
    from ctsite.figures.precomputed import read_index
    from ctsite.store.format import FIGURES_DIR
    from ctsite.store.versions import version_path

    return bool(read_index((version_path(store) or store) / FIGURES_DIR))


def bundle_sha256(s: Settings) -> str:
    from ctsite.deploy.bundle import build_bundle

    with tempfile.TemporaryDirectory(prefix="ctsite-release-") as tmp:
        dest = Path(tmp) / "bundle.zip"
        doc = dockerrun.default(s)
        return build_bundle(s.root, dest, s.efs_file_system_id, s.efs_mount_dir, doc).sha256


def observe(
    s: Settings, client: ClientFactory, offline_ok: bool = False, trust_remote: bool = False
) -> Observed:
    """Everything the plan needs; reads only (the registry, EB and local files).
    `trust_remote`: the upload will not re-read the store's files already on the remote.

    With `offline_ok` (a dry run) an AWS read that fails is noted in `Observed.unchecked`
    instead of raising, so a plan can be looked at without credentials or network.
    """
    unchecked: list[str] = []

    def tolerant(what: str, read: Callable[[], Any], fallback: Any) -> Any:
        try:
            return read()
        except CtsiteError as exc:
            if not offline_ok:
                raise
            unchecked.append(f"{what}: {exc.message}")
            return fallback

    gaps: list[tuple[str, str]] = []

    def needed(step: str, read: Callable[[], Any], fallback: Any) -> Any:
        """A read a step needs (a setting, an input): a dry run notes its failure beside the
        step and goes on planning; a real release stops on it."""
        try:
            return read()
        except CtsiteError as exc:
            if not offline_ok:
                raise
            hint = f" → {exc.hint}" if exc.hint else ""
            gaps.append((step, f"{exc.message}{hint}"))
            return fallback

    from ctsite.deploy.upload import plan_offline_upload
    from ctsite.sftp import manifest

    compiled = s.compiled_path
    has_spec = bool(s.data)
    up_to_date = False
    if has_spec:
        from ctsite.compile.workflow import store_up_to_date

        up_to_date = needed("compile", lambda: store_up_to_date(s), False)
    state = release_state.read_state(s.root)
    image = state.get("image") or {}
    deployed = state.get("deploy") or {}
    digest = image.get("digest")
    in_registry: bool | None = None
    if digest and image.get("repository") == s.image_repository:
        try:
            repo = ecr.repo_for(s.image_repository)
        except CtsiteError:
            in_registry = None  # not ECR: cannot be checked without pulling
        else:
            in_registry = tolerant(
                "the pushed image in the registry",
                lambda: ecr.digest_exists(repo, client, str(digest)),
                None,
            )
    files = sent = deletions = total = read_back = 0
    recorded = False
    if s.data_path.is_dir():
        recorded = bool(manifest.read_local_manifest(s.data_path))
        upload = needed(
            "upload-data", lambda: plan_offline_upload(s, trust_remote=trust_remote), None
        )
        if upload is not None:
            files, sent, deletions = upload.files, upload.upload_bytes, len(upload.deletions)
            read_back = upload.read_back_bytes
        total = _tree_bytes(s.data_path)
    running = tolerant(
        "the running version",
        Beanstalk(client, s.eb_application, s.eb_environment).environment,
        {},
    )
    label = running.get("VersionLabel")
    return Observed(
        has_data_spec=has_spec,
        store_present=manifest_path(compiled).is_file(),
        compile_up_to_date=up_to_date,
        figures_present=figures_present(compiled),
        context_hash=needed("build-push", lambda: image_inputs_hash(s), ""),
        recorded_context_hash=image.get("context_hash"),
        repository=s.image_repository,
        recorded_repository=image.get("repository"),
        recorded_digest=digest,
        digest_in_registry=in_registry,
        upload_recorded=recorded,
        upload_files=files,
        upload_bytes=sent,
        upload_deletions=deletions,
        upload_read_back=read_back,
        data_bytes=total,
        bundle_sha256=needed("deploy", lambda: bundle_sha256(s), ""),
        recorded_bundle_sha256=deployed.get("bundle_sha256"),
        recorded_label=deployed.get("label"),
        running_label=str(label) if label else None,
        unchecked=tuple(unchecked),
        gaps=tuple(gaps),
    )


@dataclasses.dataclass(frozen=True)
class ReleaseOptions:
    """Every flag of `ctsite release`, passed through to the step workflows."""

    force: frozenset[str] = frozenset()
    message: str = ""
    label: str | None = None
    network: str | None = None
    poll: float = 5.0
    trust_remote: bool = False  # upload-data --trust-remote

    @classmethod
    def checked(
        cls,
        force: Iterable[str] = (),
        message: str = "",
        label: str | None = None,
        network: str | None = None,
        poll: float = 5.0,
        trust_remote: bool = False,
    ) -> ReleaseOptions:
        if label is not None:
            check_label(label)
        if poll <= 0:
            raise CtsiteError("--poll must be positive", exit_code=2)
        steps = frozenset(release_plan.check_steps(force))
        return cls(steps, message, label, network, poll, trust_remote)


@dataclasses.dataclass(frozen=True)
class ReleasePlan:
    checks: list[Check]
    decisions: list[Decision]
    cost: float
    observed: Observed
    options: ReleaseOptions
    blocking: list[str]  # failed doctor checks that this plan needs
    # step → what stops it (blocking checks and a dry run's missing settings), shown beside it
    blocked: dict[str, list[str]] = dataclasses.field(default_factory=dict)

    @property
    def nothing_to_do(self) -> bool:
        return not any(d.run for d in self.decisions)

    @property
    def can_run(self) -> bool:
        """Nothing blocks this plan (a dry run's exit status)."""
        return not self.blocked

    def check(self) -> None:
        """Raise `ReleaseBlocked` when a failed doctor check matters for this plan."""
        if self.blocking:
            raise ReleaseBlocked(self.blocking, self.checks)


@dataclasses.dataclass(frozen=True)
class ReleaseResult:
    plan: ReleasePlan
    steps: list[StepResult]
    seconds: float
    environment: EnvironmentState | None


class ReleaseBlocked(CtsiteError):
    """Failed doctor checks stop the release before it starts; `checks` holds all of them."""

    def __init__(self, names: list[str], checks: list[Check]):
        super().__init__(
            f"release stopped before it started: doctor check(s) failed: {', '.join(names)}",
            hint="fix them (see above; `ctsite doctor`) and release again",
        )
        self.checks = checks


def prepare(
    s: Settings,
    client: ClientFactory,
    options: ReleaseOptions,
    docker_ping: Callable[[], Any] | None = None,
    dry_run: bool = False,
) -> ReleasePlan:
    """Doctor → observe → plan. Raises when a failed check blocks any release; the checks that
    block only this plan are in `blocking` (`ReleasePlan.check()`; `execute` calls it).

    A `dry_run` never raises for failed checks or unreadable AWS state: it plans with what it
    could read (offline, without credentials) and lists the rest (`Observed.unchecked`).
    """
    checks = run_checks(s, client, docker_ping)
    failed = [c.name for c in checks if c.status == "failed"]
    everything = [Decision(step, True, "") for step in release_plan.STEPS]
    early = [n for n in release_plan.blocking_checks(failed, everything) if n != "Docker engine"]
    if early and not dry_run:
        raise ReleaseBlocked(early, checks)
    observed = observe(s, client, offline_ok=dry_run, trust_remote=options.trust_remote)
    decisions = release_plan.plan(observed, options.force, Rates.of(s))
    blocking = release_plan.blocking_checks(failed, decisions)
    by_name = {c.name: c for c in checks}
    lines = [(name, blocked_by(by_name[name])) for name in blocking]
    said = {because(by_name[name]) for name in blocking}  # a bad [site] value: doctor's too
    gaps = [
        (step, f"✗ blocked by a missing setting or input: {why}")
        for step, why in observed.gaps
        if why not in said
    ]
    blocked = release_plan.blocked_steps(lines, gaps, decisions)
    cost = release_plan.total_cost(decisions)
    return ReleasePlan(checks, decisions, cost, observed, options, blocking, blocked)


def because(check: Check) -> str:
    """`<detail> → <fix>`: what a failed check says (as a dry run's gap says it)."""
    return f"{check.detail} → {check.fix}" if check.fix else check.detail


def blocked_by(check: Check) -> str:
    """`✗ blocked by <check>: <detail> → <fix>`: a failed check as shown beside a step."""
    return f"✗ blocked by {check.name}: {because(check)}"


@dataclasses.dataclass
class Steps:
    """One callable per pipeline step, each calling the workflow of the command that owns it."""

    s: Settings
    client: ClientFactory
    context_hash: str
    options: ReleaseOptions
    reporter: Reporter = NULL
    deployed: EnvironmentState | None = None

    def actions(self) -> dict[str, Callable[[], str | None]]:
        return {
            "compile": self.compile,
            "figures": self.figures,
            "build-push": self.build_push,
            "upload-data": self.upload,
            "deploy": self.deploy,
            "restart": self.restart,
        }

    def compile(self) -> str:
        from ctsite.compile.workflow import compile_data

        done = compile_data(self.s, force="compile" in self.options.force, reporter=self.reporter)
        return f"{done.status}: {done.path}"

    def figures(self) -> str:
        from ctsite.figures.precomputed import precompute_figures

        done = precompute_figures(self.s.compiled_path, reporter=self.reporter)
        return f"{len(done.figures)} figure(s)"

    def build_push(self) -> str:
        from ctsite.deploy.image import build_push

        done = build_push(
            self.s,
            self.client,
            pin=True,
            network=self.options.network,
            quiet=True,
            reporter=self.reporter,
        )
        if not done.digest:
            raise CtsiteError("build-push did not pin the pushed digest in Dockerrun.aws.json")
        # build_push records its push too; the release's own observed hash is what it planned by
        release_state.record_image(
            self.s.root, self.s.image_repository, self.context_hash, done.digest
        )
        return done.digest

    def upload(self) -> str:
        from ctsite.deploy.upload import upload_data

        done = upload_data(
            self.s, self.client, reporter=self.reporter, trust_remote=self.options.trust_remote
        )
        return f"{done.files_sent} file(s) sent, {done.deleted} deleted"

    def _check_pushed(self, bundle: Any) -> None:
        """Refuse a bundle whose Dockerrun.aws.json does not name the image a release pushed."""

        image = release_state.read_state(self.s.root).get("image") or {}
        pushed = image.get("digest")
        pinned = dockerrun.pinned_digest(bundle.dockerrun)
        name = str((bundle.dockerrun.get("Image") or {}).get("Name", "?"))
        if not pushed or image.get("repository") != self.s.image_repository:
            raise CtsiteError(
                f"refusing to deploy {name}: no image of {self.s.image_repository} was pushed "
                "by a release",
                hint="run `ctsite release --force build-push`",
            )
        if pinned != pushed:
            raise CtsiteError(
                f"refusing to deploy {name}: it is not the pushed image {pushed}",
                hint="run `ctsite release --force build-push` to push and pin the image",
            )

    def deploy(self) -> str:
        from ctsite.deploy.deploy import deploy

        bundles: list[Any] = []

        def check(bundle: Any) -> None:
            self._check_pushed(bundle)
            bundles.append(bundle)

        done = deploy(
            self.s,
            self.client,
            message=self.options.message,
            label=self.options.label,
            poll=self.options.poll,
            origin="release",
            check_bundle=check,
            reporter=self.reporter,
        )
        if done.bundle is not None:  # deploy records it too, once healthy
            release_state.record_deploy(
                self.s.root,
                done.label,
                done.bundle.sha256,
                dockerrun.pinned_digest(bundles[0].dockerrun),
            )
        self.deployed = done.environment
        url = done.environment.url if done.environment else ""
        return f"{done.label} at {url}"

    def restart(self) -> str:
        from ctsite.deploy.environment.restart import restart_environment

        env = restart_environment(
            self.s, self.client, poll_s=self.options.poll, reporter=self.reporter
        )
        self.deployed = env
        return f"{env.version} restarted"


def execute(
    s: Settings, client: ClientFactory, prepared: ReleasePlan, reporter: Reporter = NULL
) -> ReleaseResult:
    """Run the planned steps in order (`release_plan.ReleaseFailed` at the first failure)."""
    prepared.check()
    started = time.monotonic()
    steps = Steps(s, client, prepared.observed.context_hash, prepared.options, reporter)

    def announce(d: Decision) -> None:
        reporter.section(f"{d.step} — {d.why}")

    results = release_plan.run(prepared.decisions, steps.actions(), on_start=announce)
    env = steps.deployed
    if env is None:
        try:
            env = environment_state(
                s, Beanstalk(client, s.eb_application, s.eb_environment).environment()
            )
        except CtsiteError as exc:
            reporter.warn(exc.message)
    return ReleaseResult(prepared, results, time.monotonic() - started, env)
