"""CLI commands of the image area: `ctsite build-push` and `ctsite docker-run`.

Options are parsed here and the work is done by `ctsite.deploy.image`, `registry`, `dockerrun`
and `localrun` (imported inside the commands: the slim runtime image has no Docker SDK).
"""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from ctsite.console import console, err_console, warn
from ctsite.errors import CtsiteError


def _build_args(pairs: list[str]) -> dict[str, str]:
    args = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise CtsiteError(
                f"--build-arg {pair!r} is not KEY=VALUE", hint="e.g. --build-arg BASE_IMAGE=img"
            )
        args[key.strip()] = value
    return args


def _mb(size: int) -> str:
    return f"{size / 1e6:.0f} MB"


def build_push(
    no_push: Annotated[bool, typer.Option("--no-push", help="Build and tag only.")] = False,
    pin: Annotated[
        bool,
        typer.Option("--pin", help="Name the pushed digest in Dockerrun.aws.json (else :latest)."),
    ] = False,
    platform: Annotated[
        str | None,
        typer.Option(help="Target platform (default: docker_platform, linux/amd64)."),
    ] = None,
    prune: Annotated[
        bool,
        typer.Option(
            "--prune",
            help="Remove this image's older dangling builds and their cache (nothing else).",
        ),
    ] = False,
    context: Annotated[
        Path | None, typer.Option(help="Build context (default: the project root).")
    ] = None,
    dockerfile: Annotated[str, typer.Option(help="Dockerfile, relative to the context.")] = (
        "Dockerfile"
    ),
    build_arg: Annotated[
        list[str] | None,
        typer.Option("--build-arg", help="KEY=VALUE build argument (repeatable)."),
    ] = None,
    network: Annotated[
        str | None, typer.Option(help="Network mode of the build's RUN steps (e.g. host).")
    ] = None,
    pull: Annotated[
        bool, typer.Option("--pull", help="Pull a newer base image first (security updates).")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Hide the build output (errors still show).")
    ] = False,
) -> None:
    """Build the site's image, tag it (latest, version, git commit) and push it to the registry."""
    from ctsite import __version__
    from ctsite.cli import settings
    from ctsite.deploy import dockerrun, image, registry

    if pin and no_push:
        raise CtsiteError("--pin needs a push", hint="drop --no-push or --pin")
    s = settings(docker_platform=platform)
    registry.check_repository(s.image_repository)
    buildargs = _build_args(build_arg or [])
    client = image.engine()
    commit = image.git_tag(s.root)
    if commit is None:
        warn(f"{s.root} is not a git checkout: no commit tag")
    tags = image.image_tags(__version__, commit)
    local = f"{s.image_name}:latest"
    err_console.print(f"[bold]building[/] {local} for {s.docker_platform}")
    started = time.time()

    def show(line: str) -> None:
        if not quiet:
            err_console.print(
                line.rstrip("\n"), markup=False, highlight=False, style="dim", soft_wrap=True
            )

    try:
        image_id = image.build(
            client,
            (context or s.root).resolve(),
            dockerfile,
            local,
            image_name=s.image_name,
            platform=s.docker_platform,
            buildargs=buildargs,
            network_mode=network,
            pull=pull,
            on_output=show,
        )
    except image.BuildError as error:
        if quiet:
            for line in error.step_output:
                err_console.print(line, markup=False, highlight=False)
        raise
    refs = image.tag(client, image_id, s.image_repository, tags)
    size = image.image_size(client, image_id)
    console.print(f"built {image_id[:19]} ({_mb(size)}): {', '.join(refs)}", soft_wrap=True)
    if prune:
        result = image.prune(client, s.image_name, before=started)
        console.print(f"pruned {result.images} dangling ctsite image(s), {_mb(result.bytes)}")
    if no_push:
        return
    auth = registry.resolve_auth(s, s.image_repository)
    if auth is not None:
        image.login(client, auth)
    digests = _push_all(client, s.image_repository, tags, auth)
    digest = digests[0]
    if len(set(digests)) != 1:
        raise CtsiteError(f"the tags were pushed with different digests: {sorted(set(digests))}")
    console.print(f"pushed {s.image_repository}@{digest}", soft_wrap=True)
    path = dockerrun.update(s, digest if pin else None)
    name = dockerrun.image_name(s.image_repository, digest if pin else None)
    console.print(f"{path.name} names {name}", soft_wrap=True)


def _push_all(client: Any, repository: str, tags: list[str], auth: Any) -> list[str]:
    """Push every tag with one progress bar per tag (bytes of the layers being uploaded)."""
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TransferSpeedColumn,
    )

    from ctsite.deploy import image

    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeElapsedColumn(),
    )
    digests = []
    with Progress(*columns, console=err_console) as progress:
        for name in tags:
            task = progress.add_task(f"push {name}", total=None)

            def report(done: int, total: int, task: Any = task) -> None:
                progress.update(task, completed=done, total=max(total, done))

            digests.append(image.push(client, repository, name, auth, on_progress=report))
            uploaded = progress.tasks[task].total or 0  # 0: every layer was already there
            progress.update(task, completed=uploaded, total=uploaded)
    return digests


def docker_run(
    image_ref: Annotated[
        str | None, typer.Option("--image", help="Image to run (default: image_name:latest).")
    ] = None,
    data: Annotated[
        Path | None, typer.Option(help="Data folder mounted on /app/data (default: data_dir).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Local port (default: serve_port).")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait until healthy.")] = 90.0,
) -> None:
    """Run the image on the local data, wait until healthy, print the URL; Ctrl-C stops it."""
    from ctsite.cli import settings
    from ctsite.deploy import image, localrun

    s = settings(serve_port=port)
    client = image.engine()
    ref = image_ref or f"{s.image_name}:latest"
    data_dir = data or s.data_path
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    container = localrun.start(client, ref, data_dir, s.serve_port)
    try:
        url = f"http://127.0.0.1:{s.serve_port}"
        err_console.print(f"started {ref} ({container.short_id}) on {escape(str(data_dir))}")
        localrun.wait_healthy(container, url, timeout)
        console.print(f"site running at {url}/ (Ctrl-C to stop)", soft_wrap=True)
        code = localrun.follow_logs(
            container, lambda line: err_console.print(line.rstrip("\n"), markup=False)
        )
        if code != 0:
            raise CtsiteError(f"the container exited with code {code}", hint="see its output")
    except KeyboardInterrupt:
        err_console.print("stopping the container")
    finally:
        localrun.stop(container)
        signal.signal(signal.SIGTERM, previous)
    err_console.print("stopped")


def register(app: typer.Typer) -> None:
    """Add `build-push` and `docker-run` to the main app."""
    app.command("build-push")(build_push)
    app.command("docker-run")(docker_run)
