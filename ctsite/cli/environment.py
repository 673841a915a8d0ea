"""CLI commands of the environment chores (`ctsite.deploy.environment`): `status`, `versions`,
`open`, `logs`, `restart`, `events`, `health` and `alerts subscribe|list`.

Each parses options, calls one workflow with the client factory of the context and renders the
result (rich, or JSON with --json); `logs -f`, `events -f` and `health --refresh` keep going
until Ctrl-C, as in the EB CLI.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer

from ctsite.cli.console import console, err_console, warn
from ctsite.cli.context import begin, clients, reporter_for, settings
from ctsite.cli.render import (
    Environment,
    JsonFlag,
    Region,
    Yes,
    answer_listing,
    confirm_prune,
    emit,
    esc,
    event_line,
    jsonable,
    say,
)
from ctsite.formatting import utc_time

HEALTH_STYLE = {"Green": "green", "Yellow": "yellow", "Red": "bold red", "Grey": "dim"}


def status_cmd(
    ctx: typer.Context,
    region: Region = None,
    env: Environment = None,
    events: Annotated[int, typer.Option("--events", help="How many recent events.")] = 10,
    json_out: JsonFlag = False,
) -> None:
    """Environment health, running version, URL, recent events, rollback targets, servers,
    alarm states."""
    from rich.table import Table

    from ctsite.deploy.doctor import describe_server
    from ctsite.deploy.environment.status import status

    s, as_json = begin(ctx, json_out, aws_region=region, eb_environment=env)
    result = status(s, clients(ctx, s), events=events)
    if as_json:
        emit(result)
        return
    current = result.environment
    table = Table(show_header=False, title=f"{esc(current.name)} ({current.region})")
    for key, value in (
        ("application", current.application),
        ("status", current.status),
        ("health", f"{current.health} {current.health_status or ''}".strip()),
        ("version", current.version),
        ("URL", current.url),
        ("updated", utc_time(current.updated)),
    ):
        table.add_row(key, esc(str(value)))
    console.print(table)
    say("[bold]recent events[/]")
    for event in result.events:
        say(event_line(event))
    say("[bold]application versions[/] (roll back: ctsite deploy --version LABEL)")
    for v in result.versions:
        mark = "*" if v.deployed else " "
        say(f" {mark} {esc(v.label)}  {utc_time(v.created)}")
    if result.images is None:
        warn(f"images: {result.images_error}")
    else:
        say(f"[bold]images[/] in {esc(result.repository)}")
        for image in result.images:
            for tag in image.tags:
                say(f"   {esc(tag)}  {utc_time(image.pushed)}")
    if result.servers is None:
        warn(f"Transfer servers: {result.servers_error}")
    elif result.servers:
        for server in result.servers:
            say(
                "[bold red]Transfer server still running:[/] "
                + esc(describe_server(server, result.hourly_cost))
            )
    else:
        say("no ctsite Transfer servers running")
    _render_alarms(result.alarms, result.alarms_error)


ALARM_STYLE = {"OK": "green", "ALARM": "bold red", "INSUFFICIENT_DATA": "dim"}


def _render_alarms(alarms: Any, error: str | None) -> None:
    """One line per alarm: state, name, and CloudWatch's reason while it is not OK."""
    if alarms is None:
        warn(f"alarms: {error}")
        return
    if not alarms:
        say("no alarms (`ctsite provision apply` creates them)")
        return
    say("[bold]alarms[/] (to the environment's topic: ctsite alerts)")
    for alarm in alarms:
        style = ALARM_STYLE.get(alarm.state, "white")
        why = f"  {esc(alarm.reason)}" if alarm.state != "OK" and alarm.reason else ""
        say(f"   [{style}]{esc(alarm.state)}[/]  {esc(alarm.name)}{why}")


def versions_cmd(
    ctx: typer.Context,
    prune: Annotated[
        bool, typer.Option("--prune", help="Delete old versions (never the deployed one).")
    ] = False,
    keep: Annotated[
        int | None, typer.Option("--keep", help="Versions to keep (default eb_keep_versions).")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only show the pruning.")] = False,
    yes: Yes = False,
    region: Region = None,
    json_out: JsonFlag = False,
) -> None:
    """List the application versions; --prune deletes all but the newest N (asks first)."""
    from ctsite.deploy.environment.status import versions

    s, as_json = begin(ctx, json_out, aws_region=region, eb_keep_versions=keep)

    def lines(doomed: list[str]) -> list[str]:
        return [f"would delete application version {v} and its source bundle" for v in doomed]

    ask = confirm_prune("application version(s)", lines, yes, always_list=False, show=warn)
    result = versions(
        s,
        clients(ctx, s),
        prune=prune,
        dry_run=dry_run,
        confirm=ask,
        reporter=reporter_for(ctx),
    )
    shown = answer_listing(
        result,
        as_json,
        f"application versions of {esc(result.application)}",
        ("label", "created", "status", "description", "deployed"),
        lambda: [
            (
                esc(v.label),
                utc_time(v.created),
                esc(v.status),
                esc(v.description),
                "yes" if v.deployed else "",
            )
            for v in result.versions
        ],
    )
    if not (shown and prune):
        return
    if not result.pruned:
        say(f"nothing to prune (keeping the newest {result.keep})")
    for label in result.pruned:
        say(f"{'would delete' if dry_run else 'deleted'} {esc(label)}")


def open_cmd(ctx: typer.Context, region: Region = None, env: Environment = None) -> None:
    """Open the site's URL in the web browser."""
    import webbrowser

    from ctsite.deploy.environment.status import site_url

    s = settings(ctx, aws_region=region, eb_environment=env)
    url = site_url(s, clients(ctx, s))
    say(esc(url))
    if not webbrowser.open(url):
        warn("no web browser found; open the URL above yourself")


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
    from ctsite.deploy.environment.logs import follow_logs

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
    from ctsite.deploy.environment.restart import restart_environment

    s = settings(ctx, aws_region=region, eb_environment=env)
    final = restart_environment(s, clients(ctx, s), poll_s=poll, reporter=reporter_for(ctx))
    say(f"[green]✓[/] {esc(final.name)} is {final.status}, health {final.health}")


def events_cmd(
    ctx: typer.Context,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new events until Ctrl-C.")
    ] = False,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Events after an age (30m, 2h, 1d) or an ISO date/time."),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", help="How many recent events (without --since).")
    ] = 20,
    interval: Annotated[float, typer.Option(help="Seconds between --follow polls.")] = 5.0,
    region: Region = None,
    env: Environment = None,
    json_out: JsonFlag = False,
) -> None:
    """The environment's events, oldest first; -f keeps following them (eb events -f)."""
    from ctsite.deploy.environment.watch import events, since_time

    s, as_json = begin(ctx, json_out, aws_region=region, eb_environment=env)
    start = since_time(since)
    if as_json and follow:
        from ctsite.errors import CtsiteError

        raise CtsiteError("--json and --follow exclude each other", hint="drop one", exit_code=2)
    found: list[dict[str, Any]] = []
    show = found.append if as_json else (lambda e: say(event_line(e)))
    events(s, clients(ctx, s), show, since=start, limit=limit, follow=follow, interval=interval)
    if as_json:
        emit({"environment": s.eb_environment, "events": found})


def render_health(result: Any) -> None:
    from rich.table import Table

    style = HEALTH_STYLE.get(str(result.color), "white")
    causes = "; ".join(result.causes)
    say(
        f"[bold]{esc(result.environment)}[/] {esc(str(result.status))}, health "
        f"[{style}]{esc(str(result.health))}[/] ({esc(str(result.color))})"
        + (f": {esc(causes)}" if causes else "")
    )
    counts = ", ".join(f"{n} {esc(k)}" for k, n in result.instances_by_state.items() if n)
    if counts:
        say(f"instances: {counts}")
    table = Table(title=f"instances (refreshed {utc_time(result.refreshed)})")
    for column in ("instance", "health", "version", "zone", "launched", "causes"):
        table.add_column(column)
    for i in result.instances:
        istyle = HEALTH_STYLE.get(i.color, "white")
        table.add_row(
            esc(i.instance),
            f"[{istyle}]{esc(i.health)}[/]",
            esc(str(i.version or "")),
            esc(str(i.zone or "")),
            utc_time(i.launched),
            esc("; ".join(i.causes)),
        )
    console.print(table)


def health_cmd(
    ctx: typer.Context,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Show it again every --interval s until Ctrl-C.")
    ] = False,
    interval: Annotated[float, typer.Option(help="Seconds between refreshes.")] = 10.0,
    count: Annotated[
        int | None, typer.Option("--count", help="Stop after this many refreshes.")
    ] = None,
    region: Region = None,
    env: Environment = None,
    json_out: JsonFlag = False,
) -> None:
    """Enhanced health of the environment and of each instance (eb health)."""
    from ctsite.deploy.environment.watch import health
    from ctsite.errors import CtsiteError

    s, as_json = begin(ctx, json_out, aws_region=region, eb_environment=env)
    if interval <= 0 or (count is not None and count < 1):
        raise CtsiteError("--interval must be positive and --count at least 1", exit_code=2)
    if as_json and refresh:
        raise CtsiteError("--json and --refresh exclude each other", hint="drop one", exit_code=2)
    shown = 0
    while True:
        result = health(s, clients(ctx, s))
        if as_json:
            emit(jsonable(result))
            return
        render_health(result)
        shown += 1
        if not refresh or (count is not None and shown > count):
            return
        time.sleep(interval)


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
    from ctsite.deploy.environment.alerts import subscribe

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
    from ctsite.deploy.environment.alerts import list_alerts

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
    """Add the environment chores to the main app."""
    app.command("status")(status_cmd)
    app.command("versions")(versions_cmd)
    app.command("open")(open_cmd)
    app.command("logs")(logs_cmd)
    app.command("restart")(restart_cmd)
    app.command("events")(events_cmd)
    app.command("health")(health_cmd)
    alerts_app = typer.Typer(help="E-mail alerts of the environment (SNS).", no_args_is_help=True)
    alerts_app.command("subscribe")(alerts_subscribe)
    alerts_app.command("list")(alerts_list)
    app.add_typer(alerts_app, name="alerts")
