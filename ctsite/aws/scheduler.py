"""EventBridge Scheduler: the server-side safety net that deletes a Transfer server on its own.

When `upload-data` creates its Transfer Family server it also creates a one-time schedule
(`at(...)`, `ActionAfterCompletion=DELETE`) whose universal target calls
`transfer:DeleteServer` on that server after `transfer_max_age_hours`. A laptop that dies, a
SIGKILL or a lost network then cannot leave the server billing for ever. Normal teardown
removes the schedule. The schedule assumes `role_arn` (a role that Scheduler may assume, allowed
`transfer:DeleteServer`; the provisioning template creates it).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

PREFIX = "ctsite-delete-"
DELETE_SERVER_TARGET = "arn:aws:scheduler:::aws-sdk:transfer:deleteServer"
_AT = re.compile(r"^at\((\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\)$")


@dataclasses.dataclass(frozen=True)
class SafetyNet:
    """A schedule that will delete `server_id` at `delete_at` (UTC)."""

    name: str
    server_id: str
    delete_at: datetime | None
    group: str

    def hours_left(self, now: datetime | None = None) -> float | None:
        if self.delete_at is None:
            return None
        return (self.delete_at - (now or datetime.now(UTC))).total_seconds() / 3600


def schedule_name(server_id: str) -> str:
    return f"{PREFIX}{server_id}"


def at_expression(when: datetime) -> str:
    """Scheduler's one-time expression, in UTC, to the second."""
    return f"at({when.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S')})"


def parse_at(expression: str) -> datetime | None:
    match = _AT.match(expression or "")
    return datetime.fromisoformat(match.group(1)).replace(tzinfo=UTC) if match else None


def create(
    client: Any,
    server_id: str,
    *,
    max_age_hours: float,
    role_arn: str,
    group: str = "default",
    now: datetime | None = None,
) -> SafetyNet:
    """Create the schedule that deletes `server_id` after `max_age_hours` (raises ClientError)."""
    when = (now or datetime.now(UTC)) + timedelta(hours=max_age_hours)
    name = schedule_name(server_id)
    client.create_schedule(
        Name=name,
        GroupName=group,
        ScheduleExpression=at_expression(when),
        ScheduleExpressionTimezone="UTC",
        FlexibleTimeWindow={"Mode": "OFF"},
        ActionAfterCompletion="DELETE",
        State="ENABLED",
        Description=f"ctsite safety net: delete Transfer server {server_id} if still running",
        Target={
            "Arn": DELETE_SERVER_TARGET,
            "RoleArn": role_arn,
            "Input": json.dumps({"ServerId": server_id}),
            "RetryPolicy": {"MaximumRetryAttempts": 10, "MaximumEventAgeInSeconds": 3600},
        },
    )
    return SafetyNet(name, server_id, when.replace(microsecond=0), group)


def remove(client: Any, server_id: str, group: str = "default") -> bool:
    """Delete the schedule of `server_id`; False when there was none (already gone)."""
    import botocore.exceptions

    try:
        client.delete_schedule(Name=schedule_name(server_id), GroupName=group)
    except botocore.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return False
        raise
    return True


def _names(client: Any, group: str) -> Iterator[str]:
    for page in client.get_paginator("list_schedules").paginate(GroupName=group, NamePrefix=PREFIX):
        for item in page.get("Schedules", []):
            yield str(item["Name"])


def find(client: Any, group: str = "default") -> list[SafetyNet]:
    """Every ctsite safety-net schedule of `group`, with the server it deletes and when."""
    import botocore.exceptions

    found = []
    for name in _names(client, group):
        try:
            detail = client.get_schedule(Name=name, GroupName=group)
        except botocore.exceptions.ClientError:  # deleted between list and get
            continue
        try:
            server_id = str(json.loads(detail.get("Target", {}).get("Input") or "{}")["ServerId"])
        except (ValueError, KeyError, TypeError):
            server_id = name.removeprefix(PREFIX)
        found.append(
            SafetyNet(name, server_id, parse_at(detail.get("ScheduleExpression", "")), group)
        )
    return found
