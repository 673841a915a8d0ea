"""The Transfer server's safety-net schedule against moto's EventBridge Scheduler API."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
import pytest

from ctsite.aws import scheduler

ROLE = "arn:aws:iam::123456789012:role/ctsite-transfer-reaper"


@pytest.fixture
def client(aws_env):
    return boto3.client("scheduler", region_name="us-east-2")


def test_create_show_remove(client):
    now = datetime(2026, 12, 1, 20, 0, 5, tzinfo=UTC)
    net = scheduler.create(client, "s-0123456789abcdef0", max_age_hours=2, role_arn=ROLE, now=now)
    assert net.delete_at == datetime(2026, 12, 1, 22, 0, 5, tzinfo=UTC)
    raw = client.get_schedule(Name=net.name, GroupName="default")
    assert raw["ScheduleExpression"] == "at(2026-12-01T22:00:05)"
    assert raw["ActionAfterCompletion"] == "DELETE"
    assert raw["Target"]["Arn"] == "arn:aws:scheduler:::aws-sdk:transfer:deleteServer"
    assert raw["Target"]["RoleArn"] == ROLE
    assert json.loads(raw["Target"]["Input"]) == {"ServerId": "s-0123456789abcdef0"}
    client.create_schedule(  # someone else's schedule is not ours
        Name="nightly-report",
        ScheduleExpression="rate(1 day)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": "arn:aws:lambda:us-east-2:123456789012:function:x", "RoleArn": ROLE},
    )
    found = scheduler.find(client)
    assert [(n.server_id, n.delete_at) for n in found] == [("s-0123456789abcdef0", net.delete_at)]
    assert found[0].hours_left(now) == pytest.approx(2.0)
    assert scheduler.remove(client, "s-0123456789abcdef0") is True
    assert scheduler.remove(client, "s-0123456789abcdef0") is False  # already gone
    assert scheduler.find(client) == []


def test_expression_round_trip():
    when = datetime(2027, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert scheduler.parse_at(scheduler.at_expression(when)) == when
    assert scheduler.parse_at("rate(5 minutes)") is None
