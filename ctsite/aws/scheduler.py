"""EventBridge Scheduler: the server-side safety net that deletes a Transfer server on its own.

When `upload-data` creates its Transfer Family server it also creates a one-time schedule
(`at(...)`, `ActionAfterCompletion=DELETE`) whose universal target calls
`transfer:DeleteServer` on that server after `transfer_max_age_hours`. A laptop that dies, a
SIGKILL or a lost network then cannot leave the server billing for ever. Normal teardown
removes the schedule. The schedule assumes `role_arn` (a role that Scheduler may assume, allowed
`transfer:DeleteServer`; the provisioning template creates it).

`create`, `remove` and `find` are the calls; `arm` and `disarm` are how an upload uses them (a
safety net that cannot be made is one warning, never a failed upload), `find_quietly` how the
stray-server finder shows when each server's net fires. Each function takes the client factory
and asks it for the Scheduler client; a failed call is one `CtsiteError` line (`aws_errors`),
the codes that mean "not there" aside.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from ctsite.aws.clients import ClientFactory, aws_errors, error_code
from ctsite.aws.iam import role_arn
from ctsite.errors import CtsiteError

PREFIX = "ctsite-delete-"
DELETE_SERVER_TARGET = "arn:aws:scheduler:::aws-sdk:transfer:deleteServer"
_AT = re.compile(r"^at\((\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\)$")

log = logging.getLogger(__name__)


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
    client: ClientFactory,
    server_id: str,
    *,
    max_age_hours: float,
    role_arn: str,
    group: str = "default",
    now: datetime | None = None,
) -> SafetyNet:
    """Create the schedule that deletes `server_id` after `max_age_hours` (a CtsiteError when
    Scheduler refuses)."""
    when = (now or datetime.now(UTC)) + timedelta(hours=max_age_hours)
    name = schedule_name(server_id)
    with aws_errors(f"create the safety-net schedule of {server_id}"):
        client("scheduler").create_schedule(
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


def remove(client: ClientFactory, server_id: str, group: str = "default") -> bool:
    """Delete the schedule of `server_id`; False when there was none (already gone)."""
    import botocore.exceptions

    with aws_errors(f"delete the safety-net schedule of {server_id}"):
        try:
            client("scheduler").delete_schedule(Name=schedule_name(server_id), GroupName=group)
        except botocore.exceptions.ClientError as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return False
            raise
    return True


def _names(sc: Any, group: str) -> Iterator[str]:
    for page in sc.get_paginator("list_schedules").paginate(GroupName=group, NamePrefix=PREFIX):
        for item in page.get("Schedules", []):
            yield str(item["Name"])


def _detail(sc: Any, name: str, group: str) -> dict[str, Any] | None:
    """One schedule's description; None when it was deleted between list and get."""
    import botocore.exceptions

    try:
        return dict(sc.get_schedule(Name=name, GroupName=group))
    except botocore.exceptions.ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return None
        raise


def find(client: ClientFactory, group: str = "default") -> list[SafetyNet]:
    """Every ctsite safety-net schedule of `group`, with the server it deletes and when."""
    found = []
    with aws_errors("list the safety-net schedules"):
        sc = client("scheduler")
        for name in _names(sc, group):
            detail = _detail(sc, name, group)
            if detail is None:
                continue
            try:
                target = json.loads(detail.get("Target", {}).get("Input") or "{}")
                server_id = str(target["ServerId"])
            except (ValueError, KeyError, TypeError):
                server_id = name.removeprefix(PREFIX)
            found.append(
                SafetyNet(name, server_id, parse_at(detail.get("ScheduleExpression", "")), group)
            )
    return found


def find_quietly(client: ClientFactory) -> list[SafetyNet]:
    """The safety-net schedules that exist ([] when they cannot be listed: informational)."""
    try:
        return find(client)
    except CtsiteError:
        log.debug("cannot list the safety-net schedules", exc_info=True)
        return []


def arm(
    client: ClientFactory,
    server_id: str,
    role: str,
    max_age_hours: float,
    warn: Callable[[str], None],
) -> SafetyNet | None:
    """Create the schedule that deletes `server_id` after `max_age_hours`, run as the IAM role
    `role` ("": none wanted). Without it the upload still runs (its process deletes the server
    as always), so a missing role or a refused call is one warning with its fix, not a
    failure."""
    if not role:
        return None
    try:
        arn = role_arn(client, role, "transfer_scheduler_role")
        return create(client, server_id, max_age_hours=max_age_hours, role_arn=arn)
    except CtsiteError as exc:
        warn(
            f"no safety net for {server_id}: {exc.message}; if this run dies, the server bills "
            "until `ctsite upload-data --cleanup`. Fix: `ctsite provision` creates the role "
            'transfer_scheduler_role names (or set it to "" to silence this)'
        )
        return None


def disarm(client: ClientFactory, server_id: str) -> None:
    """Remove the schedule of a deleted server (a leftover only fires on a gone server, so a
    failure here is only logged)."""
    try:
        remove(client, server_id)
    except CtsiteError:
        log.debug("cannot remove the safety net of %s", server_id, exc_info=True)
