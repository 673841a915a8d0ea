"""The image workflows: `build-push` (build, tag, push, pin), `docker-run` (run it locally) and
`images` (list the repository's images, mark the deployed ones, prune).

Every option of the commands is a parameter; build output and push progress go to the
reporter. The Docker SDK is imported by the adapters only when a workflow runs. The deployed
references are Dockerrun.aws.json's image and the image of the version the environment runs;
pruning refuses to run when the latter cannot be told.
"""

from __future__ import annotations

import contextlib
import dataclasses
import signal
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ctsite.aws import ecr
from ctsite.aws.clients import ClientFactory
from ctsite.config import Settings
from ctsite.deploy import dockerrun, release_state
from ctsite.deploy.environment import beanstalk
from ctsite.deploy.files import image_context
from ctsite.deploy.reporter import NULL, Reporter
from ctsite.errors import CtsiteError

# The configured names a push writes into (see `ctsite.config.inherited_names`).
NAMES: tuple[str, ...] = ("image_repository",)


@dataclasses.dataclass(frozen=True)
class BuildPushResult:
    image_id: str
    size: int
    refs: list[str]
    platform: str
    pushed: bool
    digest: str | None = None
    repository: str = ""
    dockerrun: Path | None = None
    dockerrun_image: str | None = None  # the image Dockerrun.aws.json names now
    pruned_images: int = 0
    pruned_bytes: int = 0
    warnings: list[str] = dataclasses.field(default_factory=list)


def parse_build_args(pairs: list[str]) -> dict[str, str]:
    """`KEY=VALUE` strings (--build-arg) as a dict; a clear error for anything else."""
    args = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise CtsiteError(
                f"--build-arg {pair!r} is not KEY=VALUE", hint="e.g. --build-arg BASE_IMAGE=img"
            )
        args[key.strip()] = value
    return args


def build_push(
    s: Settings,
    client: ClientFactory | None,
    *,
    no_push: bool = False,
    pin: bool = False,
    prune: bool = False,
    context: Path | None = None,
    dockerfile: str = "Dockerfile",
    build_args: Mapping[str, str] | None = None,
    network: str | None = None,
    pull: bool = False,
    quiet: bool = False,
    reporter: Reporter = NULL,
) -> BuildPushResult:
    """Build the site's image, tag it (latest, version, git commit), push it, update Dockerrun.

    `client` (AWS) is needed only to log in to ECR; None uses a factory for `s`.
    """
    from ctsite import __version__
    from ctsite.container import engine, registry

    if pin and no_push:
        raise CtsiteError("--pin needs a push", hint="drop --no-push or --pin")
    registry.check_repository(s.image_repository)
    docker = engine.engine()
    commit = engine.git_tag(s.root)
    warnings = []
    if commit is None:
        warnings.append(f"{s.root} is not a git checkout: no commit tag")
        reporter.warn(warnings[-1])
    tags = engine.image_tags(__version__, commit)
    local = f"{s.image_name}:latest"
    reporter.info(f"building {local} for {s.docker_platform}")
    started = time.time()

    def show(line: str) -> None:
        if not quiet:
            reporter.output(line)

    # A build of the default context and Dockerfile is what a release would build: its push is
    # recorded, so `release` skips build-push until the image inputs change.
    recorded = context is None and dockerfile == release_state.DOCKERFILE
    inputs_hash = ""
    with contextlib.ExitStack() as stack:
        if context is None:
            # The project itself when it has a Dockerfile, else a context assembled from the
            # packaged files and the running ctsite (ctsite.deploy.files).
            context, source = stack.enter_context(image_context(s.root.resolve()))
            if source == "packaged":
                reporter.info("building from ctsite's packaged Dockerfile and this ctsite")
                if dockerfile != "Dockerfile":
                    dockerfile = str((s.root / dockerfile).resolve())
        if recorded:
            inputs_hash = release_state.image_inputs_hash(context, s.image_name, s.docker_platform)
        try:
            image_id = engine.build(
                docker,
                context.resolve(),
                dockerfile,
                local,
                image_name=s.image_name,
                platform=s.docker_platform,
                buildargs=dict(build_args or {}),
                network_mode=network,
                pull=pull,
                on_output=show,
            )
        except engine.BuildError as error:
            if quiet:
                for line in error.step_output:
                    reporter.output(line)
            raise
    refs = engine.tag(docker, image_id, s.image_repository, tags)
    size = engine.image_size(docker, image_id)
    pruned = engine.prune(docker, s.image_name, before=started) if prune else None
    result = BuildPushResult(
        image_id,
        size,
        refs,
        s.docker_platform,
        False,
        repository=s.image_repository,
        pruned_images=pruned.images if pruned else 0,
        pruned_bytes=pruned.bytes if pruned else 0,
        warnings=warnings,
    )
    if no_push:
        return result
    if client is None:
        from ctsite.aws.clients import client_factory

        client = client_factory(s)
    auth = ecr.resolve_auth(client, s.image_repository)
    if auth is not None:
        engine.login(docker, auth)
    digests = []
    try:
        for name in tags:
            key = f"push {name}"
            reporter.task(key, key, None)

            def report(done: int, total: int, key: str = key) -> None:
                reporter.update(key, done, max(total, done))

            digests.append(engine.push(docker, s.image_repository, name, auth, on_progress=report))
    finally:
        reporter.done()
    if len(set(digests)) != 1:
        raise CtsiteError(f"the tags were pushed with different digests: {sorted(set(digests))}")
    digest = digests[0]
    if recorded:
        release_state.record_image(s.root, s.image_repository, inputs_hash, digest)
    path = dockerrun.update(s, digest if pin else None)
    name = dockerrun.image_name(s.image_repository, digest if pin else None)
    return dataclasses.replace(
        result, pushed=True, digest=digest, dockerrun=path, dockerrun_image=name
    )


def docker_run(
    s: Settings,
    *,
    image_ref: str | None = None,
    data: Path | None = None,
    timeout: float = 90.0,
    reporter: Reporter = NULL,
    on_ready: Any = None,
) -> int:
    """Run the image on the local data until it exits or Ctrl-C; returns its exit code.

    `on_ready(url)` is called once the container answers its health check.
    """
    from ctsite.container import engine, localrun

    docker = engine.engine()
    ref = image_ref or f"{s.image_name}:latest"
    data_dir = data or s.data_path
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    container = localrun.start(docker, ref, data_dir, s.serve_port)
    code = 0
    try:
        url = f"http://127.0.0.1:{s.serve_port}"
        reporter.info(f"started {ref} ({container.short_id}) on {data_dir}")
        localrun.wait_healthy(container, url, timeout)
        if on_ready is not None:
            on_ready(url)
        code = localrun.follow_logs(container, reporter.output)
        if code != 0:
            raise CtsiteError(f"the container exited with code {code}", hint="see its output")
    except KeyboardInterrupt:
        reporter.info("stopping the container")
    finally:
        localrun.stop(container)
        signal.signal(signal.SIGTERM, previous)
    reporter.info("stopped")
    return code


# ---------------------------------------------------------------- images


@dataclasses.dataclass(frozen=True)
class ListedImage:
    image: ecr.Image
    deployed: bool


@dataclasses.dataclass(frozen=True)
class ImagesResult:
    repository: str
    images: list[ListedImage]
    deployed_refs: list[str]
    keep: int
    pruned: list[ecr.Image]  # deleted (or, with dry_run / unconfirmed, to delete)
    deleted: int
    dry_run: bool


def deployed_refs(
    s: Settings, client: ClientFactory, strict: bool, reporter: Reporter = NULL
) -> list[str]:
    """Image references in use: Dockerrun.aws.json's and the running version's."""
    refs = []
    path = dockerrun.path_for(s)
    if path.exists():
        refs.append(str((dockerrun.read(path).get("Image") or {}).get("Name", "")))
    try:
        bs = beanstalk(s, client)
        label = bs.environment().get("VersionLabel")
        if label:
            name = ecr.running_image(client, s.eb_application, str(label))
            if name:
                refs.append(name)
            elif strict:
                raise CtsiteError(f"cannot tell which image version {label} runs")
    except CtsiteError as exc:
        if strict:
            raise CtsiteError(
                f"refusing to prune: cannot tell which image is deployed ({exc.message})",
                hint=exc.hint or "fix the Elastic Beanstalk settings and retry",
            ) from None
        reporter.warn(f"deployed image unknown: {exc.message}")
    return [r for r in refs if r]


def images(
    s: Settings,
    client: ClientFactory,
    *,
    prune: bool = False,
    keep: int = 10,
    dry_run: bool = False,
    confirm: Callable[[list[ecr.Image]], bool] = lambda doomed: True,
    reporter: Reporter = NULL,
) -> ImagesResult:
    """List the images; with `prune`, delete untagged and old ones (after `confirm(doomed)`)."""
    repo = ecr.repo_for(s.image_repository)
    found = ecr.list_images(repo, client)
    refs = deployed_refs(s, client, strict=prune, reporter=reporter)
    listed = [ListedImage(i, ecr.is_deployed(i, refs, s.image_repository)) for i in found]
    doomed: list[ecr.Image] = []
    deleted = 0
    if prune:
        doomed = ecr.prune_plan(found, keep, refs, s.image_repository)
        if doomed and not dry_run and confirm(doomed):
            deleted = ecr.delete(repo, client, doomed)
    return ImagesResult(s.image_repository, listed, refs, keep, doomed, deleted, dry_run)
