"""The release plan (a pure function of the observed state) and the runner (a loop over steps).

`plan(observed)` decides for each step of the pipeline — compile, figures, build-push,
upload-data, deploy, restart — whether it runs and why, and what it is expected to cost (the
upload's price: `ctsite.deploy.pricing`, as `upload-data --dry-run` prices it), from an
`Observed` snapshot only (no I/O), so every changed/unchanged combination is easy to test.
`run(decisions, actions)` runs the chosen steps in order and stops at the first failure; what it
returns (or the `ReleaseFailed` it raises) says which steps ran and for how long.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Mapping

from ctsite.deploy.pricing import Rates
from ctsite.errors import CtsiteError
from ctsite.formatting import megabytes

STEPS = ("compile", "figures", "build-push", "upload-data", "deploy", "restart")


@dataclasses.dataclass(frozen=True)
class Observed:
    """Everything the plan depends on, gathered beforehand (see `ctsite.deploy.release.observe`)."""

    # compile / figures
    has_data_spec: bool = True  # ctsite.toml has a [data] section
    store_present: bool = True  # the compiled store has a manifest (used as is without [data])
    compile_up_to_date: bool = True  # the compile manifest matches inputs + parameters
    figures_present: bool = True  # the store holds precomputed figures
    # build-push
    context_hash: str = "ctx"
    recorded_context_hash: str | None = "ctx"
    repository: str = "repo"
    recorded_repository: str | None = "repo"
    recorded_digest: str | None = "sha256:0"
    digest_in_registry: bool | None = True  # None: could not be checked
    # upload-data (from the local record of the last successful upload)
    upload_recorded: bool = True
    upload_files: int = 0
    upload_bytes: int = 0
    upload_deletions: int = 0
    upload_read_back: int = 0  # bytes read back to confirm the store version (priced as sent)
    data_bytes: int = 0  # the whole upload tree (an upper bound when compile runs)
    # deploy
    bundle_sha256: str = "bundle"
    recorded_bundle_sha256: str | None = "bundle"
    recorded_label: str | None = "v1"
    running_label: str | None = "v1"  # None: no environment, or it could not be read
    # what could not be read (an offline dry run): one line each, shown with the plan
    unchecked: tuple[str, ...] = ()
    # (step, problem): a missing setting or unreadable input a dry run found; the step cannot run
    gaps: tuple[tuple[str, str], ...] = ()


@dataclasses.dataclass(frozen=True)
class Decision:
    step: str
    run: bool
    why: str
    cost: float = 0.0  # estimated US dollars

    @property
    def verb(self) -> str:
        return "run" if self.run else "skip"


def _compile(o: Observed, force: bool) -> Decision:
    if not o.has_data_spec:
        if not o.store_present:
            return Decision(
                "compile",
                False,
                "no [data] section in ctsite.toml and no compiled store: nothing to publish",
            )
        return Decision(
            "compile", False, "no [data] section in ctsite.toml: the store is used as is"
        )
    if force:
        return Decision("compile", True, "forced (--force compile)")
    if not o.compile_up_to_date:
        return Decision("compile", True, "inputs or parameters changed (or no compiled store)")
    return Decision("compile", False, "inputs and parameters unchanged (compile manifest)")


def _figures(o: Observed, compiling: bool, force: bool) -> Decision:
    if force:
        return Decision("figures", True, "forced (--force figures)")
    if compiling:
        return Decision("figures", True, "the store is recompiled")
    if not o.figures_present:
        return Decision("figures", True, "the store has no precomputed figures")
    return Decision("figures", False, "store unchanged and its figures present")


def _build(o: Observed, force: bool) -> Decision:
    if force:
        return Decision("build-push", True, "forced (--force build-push)")
    if not o.context_hash:
        return Decision("build-push", True, "the image inputs could not be read")
    if o.recorded_context_hash is None or o.recorded_digest is None:
        return Decision("build-push", True, "no image pushed by a release yet")
    if o.recorded_repository != o.repository:
        return Decision("build-push", True, f"image_repository changed to {o.repository}")
    if o.recorded_context_hash != o.context_hash:
        return Decision("build-push", True, "image inputs changed (build-context hash)")
    if o.digest_in_registry is False:
        return Decision(
            "build-push", True, f"the pushed image {o.recorded_digest[:19]} is no longer there"
        )
    checked = "" if o.digest_in_registry else " (registry not checked)"
    return Decision(
        "build-push",
        False,
        f"image inputs unchanged; {o.recorded_digest[:19]} already pushed{checked}",
    )


def _upload(o: Observed, store_changes: bool, force: bool, rates: Rates) -> Decision:
    if force:
        return Decision(
            "upload-data",
            True,
            "forced (--force upload-data)",
            rates.upload(o.data_bytes, o.upload_read_back),
        )
    if store_changes:
        return Decision(
            "upload-data",
            True,
            "the store changes in this release (compile/figures run first)",
            rates.upload(o.data_bytes, o.upload_read_back),
        )
    if not o.upload_recorded:
        return Decision(
            "upload-data",
            True,
            "no record of a previous upload: the remote is compared during the upload",
            rates.upload(o.data_bytes, o.upload_read_back),
        )
    if o.upload_files or o.upload_deletions:
        return Decision(
            "upload-data",
            True,
            f"{o.upload_files} file(s) ({megabytes(o.upload_bytes)}) to send and {o.upload_deletions} "
            "to delete since the last successful upload",
            rates.upload(o.upload_bytes, o.upload_read_back),
        )
    return Decision(
        "upload-data", False, "the local store equals the manifest of the last successful upload"
    )


def _deploy(o: Observed, pushing: bool, force: bool) -> Decision:
    if force:
        return Decision("deploy", True, "forced (--force deploy)")
    if pushing:
        return Decision("deploy", True, "a new image is pushed")
    if not o.bundle_sha256:
        return Decision("deploy", True, "the source bundle could not be built")
    if o.recorded_label is None or o.recorded_bundle_sha256 is None:
        return Decision("deploy", True, "no deployment recorded by a release yet")
    if o.running_label is None:
        return Decision("deploy", True, "the running version could not be read")
    if o.running_label != o.recorded_label:
        return Decision(
            "deploy",
            True,
            f"the environment runs {o.running_label}, not the last release's {o.recorded_label}",
        )
    if o.bundle_sha256 != o.recorded_bundle_sha256:
        return Decision(
            "deploy", True, "the source bundle changed (Dockerrun.aws.json, .ebextensions, …)"
        )
    return Decision("deploy", False, f"image and bundle unchanged; {o.running_label} is running")


def _restart(uploading: bool, deploying: bool, force: bool) -> Decision:
    if force:
        return Decision("restart", True, "forced (--force restart)")
    if deploying:
        return Decision("restart", False, "the deployment restarts the app")
    if uploading:
        return Decision("restart", True, "new data uploaded: the app servers reload it")
    return Decision("restart", False, "no new data")


def check_steps(names: Iterable[str]) -> set[str]:
    """The step names given to --force, or a clear error naming the unknown ones."""
    forced = set(names)
    unknown = forced - set(STEPS)
    if unknown:
        raise CtsiteError(
            f"unknown step(s) for --force: {', '.join(sorted(unknown))}",
            hint=f"choose from {', '.join(STEPS)}",
            exit_code=2,
        )
    return forced


def plan(
    observed: Observed, force: Iterable[str] = (), rates: Rates | None = None
) -> list[Decision]:
    """One decision per step, in pipeline order. Pure: depends on its arguments only."""
    forced = check_steps(force)
    rates = rates or Rates()
    compile_ = _compile(observed, "compile" in forced)
    figures = _figures(observed, compile_.run, "figures" in forced)
    build = _build(observed, "build-push" in forced)
    upload = _upload(observed, compile_.run or figures.run, "upload-data" in forced, rates)
    deploy = _deploy(observed, build.run, "deploy" in forced)
    restart = _restart(upload.run, deploy.run, "restart" in forced)
    return [compile_, figures, build, upload, deploy, restart]


def total_cost(decisions: Iterable[Decision]) -> float:
    return sum(d.cost for d in decisions if d.run)


@dataclasses.dataclass(frozen=True)
class StepResult:
    step: str
    seconds: float
    detail: str = ""


class ReleaseFailed(CtsiteError):
    """A step failed: the release stopped there. `done` lists the steps that completed."""

    def __init__(self, step: str, cause: CtsiteError, done: list[StepResult]):
        completed = ", ".join(d.step for d in done) or "none"
        super().__init__(
            f"release stopped at {step}: {cause.message} (completed before it: {completed}; "
            "later steps not run)",
            hint=cause.hint,
            exit_code=cause.exit_code,
        )
        self.step = step
        self.done = done


Action = Callable[[], str | None]


def run(
    decisions: list[Decision],
    actions: Mapping[str, Action],
    on_start: Callable[[Decision], None] = lambda d: None,
    clock: Callable[[], float] = time.monotonic,
) -> list[StepResult]:
    """Run the steps that should run, in order; stop at the first failure (ReleaseFailed)."""
    done: list[StepResult] = []
    for decision in decisions:
        if not decision.run:
            continue
        on_start(decision)
        started = clock()
        try:
            detail = actions[decision.step]()
        except CtsiteError as exc:
            raise ReleaseFailed(decision.step, exc, done) from None
        except Exception as exc:  # an OSError from SFTP, or a bug: still one clear stop
            hint = "fix it and release again"
            if not isinstance(exc, OSError | ValueError):
                hint = "an unexpected error inside ctsite; please report it with this message"
            cause = CtsiteError(f"{type(exc).__name__}: {exc}", hint=hint)
            raise ReleaseFailed(decision.step, cause, done) from exc
        done.append(StepResult(decision.step, clock() - started, detail or ""))
    return done


# The steps each doctor check is needed by (where a failed one is shown in the plan).
_AWS_STEPS = ("build-push", "upload-data", "deploy", "restart")
NEEDED_BY: dict[str, tuple[str, ...]] = {
    "AWS credentials": _AWS_STEPS,
    "region": _AWS_STEPS,
    "EB application": ("deploy", "restart"),
    "EB environment": ("deploy", "restart"),
    "EFS file system": ("upload-data", "deploy"),
    "IAM role transfer_logging_role": ("upload-data",),
    "IAM role transfer_user_role": ("upload-data",),
    "deployment files": ("build-push", "deploy"),
    "Docker engine": ("build-push",),
    "compiled data": ("compile",),
    "site identity": ("compile",),  # a [site] value compile refuses
}

# Doctor checks whose failure the plan can make harmless.
_NEEDED_ONLY_IF = {"compiled data": "compile", "Docker engine": "build-push"}
_ADVISORY = {"stray Transfer servers"}


def blocking_checks(failed: Iterable[str], decisions: list[Decision]) -> list[str]:
    """The failed doctor checks (by name) that must stop this release.

    A missing compiled store does not matter when the release compiles it (it does when it
    does not); an unreachable Docker engine matters only when an image is built; stray Transfer
    servers are only reported. Every other failure blocks.
    """
    running = {d.step for d in decisions if d.run}
    blocking = []
    for name in failed:
        if name in _ADVISORY:
            continue
        step = _NEEDED_ONLY_IF.get(name)
        if step == "compile" and "compile" in running:
            continue
        if step == "build-push" and "build-push" not in running:
            continue
        blocking.append(name)
    return blocking


def blocked_steps(
    blocking: Iterable[tuple[str, str]], gaps: Iterable[tuple[str, str]], decisions: list[Decision]
) -> dict[str, list[str]]:
    """step → what stops it, one line each: the blocking doctor checks (name, line) beside the
    steps that need them (those that run; else the first that needs it), and the dry run's
    gaps (step, line) beside their step. Steps with nothing in the way are left out."""
    running = [d.step for d in decisions if d.run]
    found: dict[str, list[str]] = {}
    for name, line in blocking:
        needed = NEEDED_BY.get(name, STEPS[:1])
        for step in [s for s in needed if s in running] or list(needed[:1]):
            found.setdefault(step, []).append(line)
    for step, line in gaps:
        found.setdefault(step, []).append(line)
    return {step: found[step] for step in STEPS if step in found}
