"""`ctsite events` and `ctsite health`, as `eb events` and `eb health` show them: the
environment's events (optionally followed until Ctrl-C) and its enhanced health (optionally
refreshed), as typed results.

`events` hands each new event to a callback, oldest first, and with `follow` keeps polling
(`describe_events` from the newest date seen) until the caller interrupts it. `health` reads
describe_environment_health and describe_instances_health. Nothing here prints.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import time
from collections.abc import Callable
from typing import Any

from ctsite.aws.clients import ClientFactory
from ctsite.config import Settings
from ctsite.deploy.environment import beanstalk
from ctsite.errors import CtsiteError

Event = dict[str, Any]
_AGO = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def since_time(text: str | None, now: dt.datetime | None = None) -> dt.datetime | None:
    """`--since`: an age (`30m`, `2h`, `1d`) or an ISO date/time (UTC unless it says otherwise)."""
    if text is None or not text.strip():
        return None
    now = now or dt.datetime.now(dt.UTC)
    match = _AGO.match(text)
    if match:
        return now - dt.timedelta(seconds=float(match[1]) * _UNITS[match[2]])
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise CtsiteError(
            f"--since {text!r} is neither an age nor a date",
            hint="e.g. --since 30m, --since 2h, --since 1d or --since 2026-01-02T03:04",
            exit_code=2,
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _key(event: Event) -> tuple[Any, ...]:
    return (event.get("EventDate"), event.get("Message"), event.get("RequestId"))


def events(
    s: Settings,
    client: ClientFactory,
    on_event: Callable[[Event], None],
    *,
    since: dt.datetime | None = None,
    limit: int = 20,
    follow: bool = False,
    interval: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
    polls: int | None = None,
) -> int:
    """Hand the environment's events to `on_event`, oldest first; return how many.

    Without `since`, the newest `limit` events; with `follow`, then every `interval` seconds
    the new ones, until interrupted (Ctrl-C) or, for tests, after `polls` further polls.
    """
    if interval <= 0 or limit < 1:
        raise CtsiteError("--interval must be positive and --limit at least 1", exit_code=2)
    eb = beanstalk(s, client)
    found = eb.events(since=since) if since is not None else eb.events(limit=limit)
    if since is None:
        found = found[-limit:]
    seen = {_key(e) for e in found}
    for event in found:
        on_event(event)
    count = len(found)
    cursor = max((e["EventDate"] for e in found if e.get("EventDate")), default=None)
    if cursor is None:
        cursor = since or dt.datetime.now(dt.UTC)
    done = 0
    while follow and (polls is None or done < polls):
        sleep(interval)
        done += 1
        for event in eb.events(since=cursor):
            if _key(event) in seen:
                continue
            seen.add(_key(event))
            on_event(event)
            count += 1
            if event.get("EventDate") and event["EventDate"] > cursor:
                cursor = event["EventDate"]
    return count


@dataclasses.dataclass(frozen=True)
class InstanceHealth:
    instance: str
    health: str  # Ok, Warning, Degraded, Severe, Info, Pending, Unknown, No Data
    color: str
    causes: list[str]
    version: str | None
    zone: str | None
    launched: dt.datetime | None


@dataclasses.dataclass(frozen=True)
class HealthResult:
    environment: str
    status: str | None
    health: str | None  # the enhanced health status (Ok, Warning, ...)
    color: str | None
    causes: list[str]
    instances_by_state: dict[str, int]
    instances: list[InstanceHealth]
    refreshed: dt.datetime | None


def health(s: Settings, client: ClientFactory) -> HealthResult:
    """The environment's enhanced health and every instance's (what `eb health` shows)."""
    eb = beanstalk(s, client)
    env = eb.environment_health()
    instances = [
        InstanceHealth(
            str(i.get("InstanceId", "?")),
            str(i.get("HealthStatus", "")),
            str(i.get("Color", "")),
            [str(c) for c in i.get("Causes", [])],
            (i.get("Deployment") or {}).get("VersionLabel"),
            i.get("AvailabilityZone"),
            i.get("LaunchedAt"),
        )
        for i in eb.instances_health()
    ]
    return HealthResult(
        s.eb_environment,
        env.get("Status"),
        env.get("HealthStatus"),
        env.get("Color"),
        [str(c) for c in env.get("Causes", [])],
        {k: int(v) for k, v in (env.get("InstancesHealth") or {}).items()},
        instances,
        env.get("RefreshedAt"),
    )
