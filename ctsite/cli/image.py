"""CLI commands of the image area: `ctsite build-push`, `ctsite docker-run` and `ctsite images`.

The work is in `ctsite.deploy.image` (which imports the Docker SDK only when it runs: the slim
runtime image has none).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ctsite.cli.context import begin, clients, reporter_for, settings
from ctsite.cli.render import (
    JsonFlag,
    Region,
    Yes,
    answer_listing,
    confirm_own_names,
    confirm_prune,
    esc,
    say,
)
from ctsite.formatting import megabytes, utc_time


def build_push_cmd(
    ctx: typer.Context,
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
        Path | None,
        typer.Option(
            help="Build context (default: the project root if it has a Dockerfile, "
            "else ctsite's packaged Dockerfile with this ctsite)."
        ),
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
    yes: Yes = False,
) -> None:
    """Build the site's image, tag it (latest, version, git commit) and push it to the registry."""
    from ctsite.deploy.image import NAMES, build_push, parse_build_args

    s = settings(ctx, docker_platform=platform)
    if not no_push:
        confirm_own_names(s, NAMES, yes)
    result = build_push(
        s,
        None if no_push else clients(ctx, s),
        no_push=no_push,
        pin=pin,
        prune=prune,
        context=context,
        dockerfile=dockerfile,
        build_args=parse_build_args(build_arg or []),
        network=network,
        pull=pull,
        quiet=quiet,
        reporter=reporter_for(ctx),
    )
    say(
        f"built {result.image_id[:19]} ({result.size / 1e6:.0f} MB): " + esc(", ".join(result.refs))
    )
    if prune:
        say(
            f"pruned {result.pruned_images} dangling ctsite image(s), "
            f"{result.pruned_bytes / 1e6:.0f} MB"
        )
    if result.pushed:
        say(f"pushed {esc(result.repository)}@{result.digest}")
        assert result.dockerrun is not None
        say(f"{esc(result.dockerrun.name)} names {esc(str(result.dockerrun_image))}")


def docker_run_cmd(
    ctx: typer.Context,
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
    from ctsite.deploy.image import docker_run

    s = settings(ctx, serve_port=port)

    def ready(url: str) -> None:
        say(f"site running at {url}/ (Ctrl-C to stop)")

    docker_run(
        s,
        image_ref=image_ref,
        data=data,
        timeout=timeout,
        reporter=reporter_for(ctx),
        on_ready=ready,
    )


def images_cmd(
    ctx: typer.Context,
    prune: Annotated[
        bool, typer.Option("--prune", help="Delete untagged and old images (never the deployed).")
    ] = False,
    keep: Annotated[int, typer.Option("--keep", help="Tagged images to keep with --prune.")] = 10,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only show what --prune does.")
    ] = False,
    yes: Yes = False,
    region: Region = None,
    json_out: JsonFlag = False,
) -> None:
    """List the repository's images (tags, digest, size, deployed); --prune old/untagged ones."""
    from ctsite.deploy.image import images

    s, as_json = begin(ctx, json_out, aws_region=region)

    def lines(doomed: list) -> list[str]:
        return [f"delete {image.digest} {esc(', '.join(image.tags))}" for image in doomed]

    ask = confirm_prune("image(s)", lines, yes, always_list=True)
    result = images(
        s,
        clients(ctx, s),
        prune=prune,
        keep=keep,
        dry_run=dry_run,
        confirm=ask,
        reporter=reporter_for(ctx),
    )
    shown = answer_listing(
        result,
        as_json,
        f"images of {esc(result.repository)}",
        ("digest", "tags", "size", "pushed", "deployed"),
        lambda: [
            (
                listed.image.digest[:19],
                esc(", ".join(listed.image.tags)) or "(untagged)",
                megabytes(listed.image.size),
                utc_time(listed.image.pushed),
                "yes" if listed.deployed else "",
            )
            for listed in result.images
        ],
    )
    if not (shown and prune):
        return
    if not result.pruned:
        say(f"nothing to prune (keeping the newest {keep} tagged images and the deployed one)")
        return
    if dry_run:
        for image in result.pruned:
            say(f"would delete {image.digest} {esc(', '.join(image.tags))}")
        return
    say(f"deleted {result.deleted} image(s)")


def register(app: typer.Typer) -> None:
    """Add `build-push`, `docker-run` and `images` to the main app."""
    app.command("build-push")(build_push_cmd)
    app.command("docker-run")(docker_run_cmd)
    app.command("images")(images_cmd)
