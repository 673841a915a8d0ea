"""CloudWatch alarms, read only: an environment's alarms with their states (`ctsite status`) and
how many alarm metrics the region holds (`provision plan` counts them against the free tier).

CloudWatch bills alarms per alarm metric: a plain alarm is one, a metric-math alarm one per
metric it reads (the provision template's 5xx share reads two). Composite alarms are billed
apart and never free, so only metric alarms are listed here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

from ctsite.aws.clients import ClientFactory, aws_errors


@dataclasses.dataclass(frozen=True)
class Alarm:
    """One metric alarm as `ctsite status` shows it."""

    name: str
    state: str  # OK | ALARM | INSUFFICIENT_DATA
    reason: str  # CloudWatch's words for the last state change
    updated: dt.datetime | None
    metrics: int  # the alarm metrics it is billed as


def metric_count(alarm: Mapping[str, Any]) -> int:
    """How many alarm metrics an alarm (as `describe_alarms` or a template gives it) counts as:
    one, or one per metric a metric-math alarm reads."""
    queries = alarm.get("Metrics") or []
    if not queries:
        return 1
    return sum(1 for query in queries if isinstance(query, Mapping) and "MetricStat" in query)


def _alarm(found: Mapping[str, Any]) -> Alarm:
    updated = found.get("StateUpdatedTimestamp")
    return Alarm(
        str(found.get("AlarmName", "")),
        str(found.get("StateValue", "")),
        str(found.get("StateReason", "")),
        updated if isinstance(updated, dt.datetime) else None,
        metric_count(found),
    )


def alarms(client: ClientFactory, prefix: str = "", region: str | None = None) -> list[Alarm]:
    """The region's metric alarms whose names start with `prefix` (all of them for ""), by name."""
    what = f"alarms named {prefix}*" if prefix else "alarms"
    query = {"AlarmNamePrefix": prefix} if prefix else {}
    found: list[Alarm] = []
    with aws_errors(f"list the CloudWatch {what}"):
        pages = client("cloudwatch", region).get_paginator("describe_alarms")
        for page in pages.paginate(AlarmTypes=["MetricAlarm"], **query):
            found.extend(_alarm(a) for a in page.get("MetricAlarms", []))
    return sorted(found, key=lambda a: a.name)
