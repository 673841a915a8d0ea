"""CLI commands `events` and `health`, as in the EB CLI (`eb events -f`, `eb health --refresh`).

Each parses options, calls `ctsite.deploy.watch` with the client factory of the context and
renders the result; `-f` / `--refresh` keep going until Ctrl-C.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer

from ctsite.cli.context import begin, clients
from ctsite.cli.render import Environment, JsonFlag, Region, emit, esc, event_line, jsonable, say
from ctsite.console import console
from ctsite.formatting import utc_time

HEALTH_STYLE = {"Green": "green", "Yellow": "yellow", "Red": "bold red", "Grey": "dim"}


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
    from ctsite.deploy.watch import events, since_time

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
    from ctsite.deploy.watch import health
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


def register(app: typer.Typer) -> None:
    """Add `events` and `health` to the main app."""
    app.command("events")(events_cmd)
    app.command("health")(health_cmd)
