"""The image workflows: `build-push` (build, tag, push, pin) and `docker-run` (run it locally).

Every option of the commands is a parameter; build output and push progress go to the
reporter. The Docker SDK is imported by the adapters only when a workflow runs.
"""

from __future__ import annotations

import dataclasses
import signal
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ctsite.aws.clients import ClientFactory
from ctsite.config import Settings
from ctsite.deploy.reporter import NULL, Reporter
from ctsite.errors import CtsiteError


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
    from ctsite.aws import ecr
    from ctsite.container import engine, registry
    from ctsite.deploy import dockerrun

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

    try:
        image_id = engine.build(
            docker,
            (context or s.root).resolve(),
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
