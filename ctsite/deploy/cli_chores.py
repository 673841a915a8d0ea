"""CLI commands for the runbook's console chores: `logs`, `restart`, `images`, `alerts`.

Options are parsed and results rendered here; the work is in `ctsite.deploy.chores` (logs,
restart), `ecr_images` and `alerts`. Registered by `cli_release.register`. AWS clients come from
the same factory as the Elastic Beanstalk commands (tests inject stubbed ones through
`ctx.obj["aws_client"]`).
"""

from __future__ import annotations

import sys
import time
from typing import Annotated, Any

import typer

from ctsite.console import console, err_console, warn
from ctsite.errors import CtsiteError

Region = Annotated[str | None, typer.Option("--region", help="AWS region (default: aws_region).")]
Environment = Annotated[
    str | None, typer.Option("--env", help="EB environment name (default: eb_environment).")
]


def say(text: str) -> None:
    console.print(text, soft_wrap=True)


def _setup(ctx: typer.Context, **overrides: Any) -> tuple[Any, Any]:
    """(settings, client factory) for a command."""
    from ctsite.cli import settings
    from ctsite.deploy.cli_beanstalk import _client_factory

    s = settings(**overrides)
    return s, _client_factory(ctx, s)


def _beanstalk(s: Any, client: Any) -> Any:
    from ctsite.deploy.beanstalk import Beanstalk

    return Beanstalk(client("elasticbeanstalk"), client("s3"), s.eb_application, s.eb_environment)


# ---------------------------------------------------------------- logs and restart


def _print_logs(logs: list[Any], file: str | None, seen: dict[tuple[str, str], list[str]]) -> int:
    """Print what is new in each instance's (selected) sections; returns the lines printed."""
    from ctsite.deploy.chores import new_lines, sections, select

    printed = 0
    for log in logs:
        chosen = select(sections(log.text), file)
        if file and not chosen:
            warn(f"{log.instance}: no {file} in its tail logs")
        for path, lines in chosen:
            key = (log.instance, path)
            fresh = new_lines(seen.get(key, []), lines)
            seen[key] = lines
            if not fresh:
                continue
            err_console.rule(f"{log.instance} {path}".strip())
            for line in fresh:
                console.print(line, markup=False, highlight=False, soft_wrap=True)
            printed += len(fresh)
    return printed


def logs(
    ctx: typer.Context,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Repeat while a deployment runs.")
    ] = False,
    file: Annotated[
        str | None, typer.Option("--file", help="Only this log file (e.g. eb-engine.log).")
    ] = None,
    interval: Annotated[float, typer.Option(help="Seconds between --follow fetches.")] = 10.0,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the logs.")] = 120.0,
    region: Region = None,
    env: Environment = None,
) -> None:
    """Print the environment's recent logs (EB tail logs: no ssh needed)."""
    from ctsite.deploy.chores import BUSY, tail_logs

    if interval <= 0 or timeout <= 0:
        raise CtsiteError("--interval and --timeout must be positive", exit_code=2)
    s, client = _setup(ctx, aws_region=region, eb_environment=env)
    bs = _beanstalk(s, client)
    seen: dict[tuple[str, str], list[str]] = {}
    while True:
        _print_logs(tail_logs(bs, timeout, poll_s=min(3.0, interval)), file, seen)
        if not follow:
            return
        status = bs.environment().get("Status")
        if status not in BUSY:
            say(f"[dim]{s.eb_environment} is {status}: no deployment running, stopped following[/]")
            return
        time.sleep(interval)


def restart_cmd(
    ctx: typer.Context,
    poll: Annotated[float, typer.Option("--poll", help="Seconds between status polls.")] = 5.0,
    region: Region = None,
    env: Environment = None,
) -> None:
    """Restart the app servers so the site reloads new data."""
    from ctsite.deploy.chores import restart

    if poll <= 0:
        raise CtsiteError("--poll must be positive", exit_code=2)
    s, client = _setup(ctx, aws_region=region, eb_environment=env)
    say(f"restarting the app servers of {s.eb_environment}")
    final = restart(_beanstalk(s, client), poll_s=poll)
    say(f"[green]✓[/] {s.eb_environment} is {final.get('Status')}, health {final.get('Health')}")


def restart_after_upload(ctx: typer.Context, s: Any) -> None:
    """`upload-data --restart`: restart the app servers (clients injected like the others)."""
    from ctsite.deploy.chores import restart
    from ctsite.deploy.cli_beanstalk import _client_factory

    say(f"restarting the app servers of {s.eb_environment} to load the new data")
    final = restart(_beanstalk(s, _client_factory(ctx, s)))
    say(f"[green]✓[/] {s.eb_environment} is {final.get('Status')}, health {final.get('Health')}")


# ---------------------------------------------------------------- images


def _deployed_refs(s: Any, client: Any, strict: bool) -> list[str]:
    """Image references in use: Dockerrun.aws.json's and the running version's."""
    from ctsite.deploy import dockerrun, ecr_images

    refs = []
    path = dockerrun.path_for(s)
    if path.exists():
        refs.append(str((dockerrun.read(path).get("Image") or {}).get("Name", "")))
    try:
        bs = _beanstalk(s, client)
        label = bs.environment().get("VersionLabel")
        if label:
            name = ecr_images.running_image(bs.eb, bs.s3, s.eb_application, str(label))
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
        warn(f"deployed image unknown: {exc.message}")
    return [r for r in refs if r]


def images(
    ctx: typer.Context,
    prune: Annotated[
        bool, typer.Option("--prune", help="Delete untagged and old images (never the deployed).")
    ] = False,
    keep: Annotated[int, typer.Option("--keep", help="Tagged images to keep with --prune.")] = 10,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only show what --prune does.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before deleting.")] = False,
    region: Region = None,
) -> None:
    """List the repository's images (tags, digest, size, deployed); --prune old/untagged ones."""
    from rich.table import Table

    from ctsite.deploy import ecr_images
    from ctsite.deploy.cli_beanstalk import _time

    s, client = _setup(ctx, aws_region=region)
    repo = ecr_images.repo_for(s.image_repository)
    found = ecr_images.list_images(repo, client)
    refs = _deployed_refs(s, client, strict=prune)
    table = Table(title=f"images of {s.image_repository}")
    for column in ("digest", "tags", "size", "pushed", "deployed"):
        table.add_column(column)
    for image in found:
        table.add_row(
            image.digest[:19],
            ", ".join(image.tags) or "(untagged)",
            f"{image.size / 1e6:,.1f} MB",
            _time(image.pushed),
            "yes" if ecr_images.is_deployed(image, refs, s.image_repository) else "",
        )
    console.print(table)
    if not prune:
        return
    doomed = ecr_images.prune_plan(found, keep, refs, s.image_repository)
    if not doomed:
        say(f"nothing to prune (keeping the newest {keep} tagged images and the deployed one)")
        return
    for image in doomed:
        say(f"{'would delete' if dry_run else 'delete'} {image.digest} {', '.join(image.tags)}")
    if dry_run:
        return
    if not yes and sys.stdin.isatty() and not typer.confirm(f"delete {len(doomed)} image(s)?"):
        raise typer.Abort()
    if not yes and not sys.stdin.isatty():
        raise CtsiteError("confirmation needed", hint="pass --yes to delete without asking")
    deleted = ecr_images.delete(repo, client, doomed)
    say(f"deleted {deleted} image(s)")


# ---------------------------------------------------------------- alerts


def _topic(s: Any, client: Any, topic: str | None) -> str:
    from ctsite.deploy import alerts

    arn = topic or s.eb_notification_topic
    if arn:
        return alerts.check_topic_arn(arn)
    return alerts.environment_topic(client("elasticbeanstalk"), s.eb_application, s.eb_environment)


Topic = Annotated[
    str | None, typer.Option("--topic", help="SNS topic ARN (default: the environment's).")
]


def alerts_subscribe(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="E-mail address to notify.")],
    topic: Topic = None,
    region: Region = None,
    env: Environment = None,
) -> None:
    """Subscribe an e-mail address to the environment's alerts."""
    from ctsite.deploy import alerts

    s, client = _setup(ctx, aws_region=region, eb_environment=env)
    arn = _topic(s, client, topic)
    sub, created = alerts.subscribe(client("sns"), arn, email)
    if not created:
        say(f"{sub.endpoint} is already subscribed (confirmed) to {arn}")
        return
    say(f"subscribed {sub.endpoint} to {arn}")
    say(
        "[yellow]the recipient must confirm[/]: AWS sent them an e-mail with a confirmation "
        "link; no alert reaches them until they click it (see `ctsite alerts list`)"
    )


def alerts_list(
    ctx: typer.Context, topic: Topic = None, region: Region = None, env: Environment = None
) -> None:
    """List the subscriptions of the environment's alert topic."""
    from ctsite.deploy import alerts

    s, client = _setup(ctx, aws_region=region, eb_environment=env)
    arn = _topic(s, client, topic)
    subs = alerts.subscriptions(client("sns"), arn)
    say(f"alerts topic {arn}")
    if not subs:
        say("no subscriptions (add one with `ctsite alerts subscribe EMAIL`)")
    for sub in subs:
        state = "confirmed" if sub.confirmed else "[yellow]pending confirmation[/]"
        say(f"  {sub.protocol:<6} {sub.endpoint}  {state}")


def register(app: typer.Typer) -> None:
    """Add `logs`, `restart`, `images` and `alerts` to the main app."""
    app.command("logs")(logs)
    app.command("restart")(restart_cmd)
    app.command("images")(images)
    alerts_app = typer.Typer(help="E-mail alerts of the environment (SNS).", no_args_is_help=True)
    alerts_app.command("subscribe")(alerts_subscribe)
    alerts_app.command("list")(alerts_list)
    app.add_typer(alerts_app, name="alerts")
