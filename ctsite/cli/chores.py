"""CLI commands for the runbook's console chores: `logs`, `restart`, `images`, `alerts`.

Each parses options, calls one workflow (`ctsite.deploy.chores`, `images`, `alerts`) with the
client factory of the context, and renders the result.
"""

from __future__ import annotations

from typing import Annotated

import typer

from ctsite.cli.context import begin, clients, reporter_for, settings
from ctsite.cli.render import (
    Environment,
    JsonFlag,
    Region,
    Yes,
    confirm_prune,
    emit,
    esc,
    print_table,
    say,
)
from ctsite.console import console, err_console
from ctsite.formatting import megabytes, utc_time


def logs_cmd(
    ctx: typer.Context,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep fetching new lines until Ctrl-C.")
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
    from ctsite.deploy.chores import follow_logs

    s = settings(ctx, aws_region=region, eb_environment=env)

    def show(instance: str, path: str, lines: list[str]) -> None:
        err_console.rule(esc(f"{instance} {path}".strip()))
        for line in lines:
            console.print(line, markup=False, highlight=False, soft_wrap=True)

    follow_logs(
        s,
        clients(ctx, s),
        show,
        file=file,
        follow=follow,
        interval=interval,
        timeout=timeout,
        reporter=reporter_for(ctx),
    )


def restart_cmd(
    ctx: typer.Context,
    poll: Annotated[float, typer.Option("--poll", help="Seconds between status polls.")] = 5.0,
    region: Region = None,
    env: Environment = None,
) -> None:
    """Restart the app servers so the site reloads new data."""
    from ctsite.deploy.chores import restart_environment

    s = settings(ctx, aws_region=region, eb_environment=env)
    final = restart_environment(s, clients(ctx, s), poll_s=poll, reporter=reporter_for(ctx))
    say(f"[green]✓[/] {esc(final.name)} is {final.status}, health {final.health}")


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
    from ctsite.deploy.images import images

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
    if as_json:
        emit(result)
        return
    print_table(
        f"images of {esc(result.repository)}",
        ("digest", "tags", "size", "pushed", "deployed"),
        [
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
    if not prune:
        return
    if not result.pruned:
        say(f"nothing to prune (keeping the newest {keep} tagged images and the deployed one)")
        return
    if dry_run:
        for image in result.pruned:
            say(f"would delete {image.digest} {esc(', '.join(image.tags))}")
        return
    say(f"deleted {result.deleted} image(s)")


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
    from ctsite.deploy.alerts import subscribe

    s = settings(ctx, aws_region=region, eb_environment=env)
    result = subscribe(s, clients(ctx, s), email, topic)
    endpoint, arn = esc(result.subscription.endpoint), esc(result.topic)
    if not result.created:
        say(f"{endpoint} is already subscribed (confirmed) to {arn}")
        return
    say(f"subscribed {endpoint} to {arn}")
    say(
        "[yellow]the recipient must confirm[/]: AWS sent them an e-mail with a confirmation "
        "link; no alert reaches them until they click it (see `ctsite alerts list`)"
    )


def alerts_list(
    ctx: typer.Context,
    topic: Topic = None,
    region: Region = None,
    env: Environment = None,
    json_out: JsonFlag = False,
) -> None:
    """List the subscriptions of the environment's alert topic."""
    from ctsite.deploy.alerts import list_alerts

    s, as_json = begin(ctx, json_out, aws_region=region, eb_environment=env)
    result = list_alerts(s, clients(ctx, s), topic)
    if as_json:
        emit(
            {
                "topic": result.topic,
                "subscriptions": [
                    {**emit_sub.__dict__, "confirmed": emit_sub.confirmed}
                    for emit_sub in result.subscriptions
                ],
            }
        )
        return
    say(f"alerts topic {esc(result.topic)}")
    if not result.subscriptions:
        say("no subscriptions (add one with `ctsite alerts subscribe EMAIL`)")
    for sub in result.subscriptions:
        state = "confirmed" if sub.confirmed else "[yellow]pending confirmation[/]"
        say(f"  {esc(sub.protocol):<6} {esc(sub.endpoint)}  {state}")


def register(app: typer.Typer) -> None:
    """Add `logs`, `restart`, `images` and `alerts` to the main app."""
    app.command("logs")(logs_cmd)
    app.command("restart")(restart_cmd)
    app.command("images")(images_cmd)
    alerts_app = typer.Typer(help="E-mail alerts of the environment (SNS).", no_args_is_help=True)
    alerts_app.command("subscribe")(alerts_subscribe)
    alerts_app.command("list")(alerts_list)
    app.add_typer(alerts_app, name="alerts")
