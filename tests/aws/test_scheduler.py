"""The Transfer server's safety-net schedule against moto's EventBridge Scheduler API (and the
Stubber for the refusals moto does not make): created, found, removed; a refused call is one
clear line; an upload's `arm` warns instead of failing and `disarm` never raises."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber

from ctsite.aws import scheduler
from ctsite.errors import CtsiteError
from tests.support.factories import serving

ROLE = "arn:aws:iam::123456789012:role/ctsite-transfer-reaper"
SERVER = "s-0123456789abcdef0"


@pytest.fixture
def stubbed(aws_env):
    """A Scheduler client whose answers the test queues (every one must be used)."""
    client = boto3.client("scheduler", region_name="us-east-2")
    with Stubber(client) as stub:
        yield stub
        stub.assert_no_pending_responses()


def test_create_show_remove(moto_clients):
    raw = moto_clients("scheduler")
    now = datetime(2026, 12, 1, 20, 0, 5, tzinfo=UTC)
    net = scheduler.create(moto_clients, SERVER, max_age_hours=2, role_arn=ROLE, now=now)
    assert net.delete_at == datetime(2026, 12, 1, 22, 0, 5, tzinfo=UTC)
    made = raw.get_schedule(Name=net.name, GroupName="default")
    assert made["ScheduleExpression"] == "at(2026-12-01T22:00:05)"
    assert made["ActionAfterCompletion"] == "DELETE"
    assert made["Target"]["Arn"] == "arn:aws:scheduler:::aws-sdk:transfer:deleteServer"
    assert made["Target"]["RoleArn"] == ROLE
    assert json.loads(made["Target"]["Input"]) == {"ServerId": SERVER}
    raw.create_schedule(  # someone else's schedule is not ours
        Name="nightly-report",
        ScheduleExpression="rate(1 day)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": "arn:aws:lambda:us-east-2:123456789012:function:x", "RoleArn": ROLE},
    )
    found = scheduler.find(moto_clients)
    assert [(n.server_id, n.delete_at) for n in found] == [(SERVER, net.delete_at)]
    assert found[0].hours_left(now) == pytest.approx(2.0)
    assert scheduler.remove(moto_clients, SERVER) is True
    assert scheduler.remove(moto_clients, SERVER) is False  # already gone
    assert scheduler.find(moto_clients) == []


def test_expression_round_trip():
    when = datetime(2027, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert scheduler.parse_at(scheduler.at_expression(when)) == when
    assert scheduler.parse_at("rate(5 minutes)") is None


def test_a_refused_create_or_remove_is_one_clear_line(stubbed):
    """Scheduler's refusals become a CtsiteError naming what failed (they escaped as a raw
    botocore ClientError before)."""
    stubbed.add_client_error("create_schedule", "AccessDeniedException", "not allowed")
    with pytest.raises(CtsiteError) as created:
        scheduler.create(serving(stubbed.client), SERVER, max_age_hours=2, role_arn=ROLE)
    assert created.value.message == (
        f"could not create the safety-net schedule of {SERVER}: "
        "AWS AccessDeniedException: not allowed"
    )
    assert "IAM" in (created.value.hint or "")
    stubbed.add_client_error("delete_schedule", "AccessDeniedException", "not allowed")
    with pytest.raises(CtsiteError, match=f"could not delete the safety-net schedule of {SERVER}"):
        scheduler.remove(serving(stubbed.client), SERVER)


def test_a_schedule_gone_between_list_and_get_is_skipped_and_a_refusal_is_not(stubbed):
    name = scheduler.schedule_name(SERVER)
    listed = {
        "Schedules": [{"Name": name, "GroupName": "default", "Arn": f"arn:aws:scheduler:x:{name}"}]
    }
    stubbed.add_response("list_schedules", listed)
    stubbed.add_client_error("get_schedule", "ResourceNotFoundException", "gone")
    assert scheduler.find(serving(stubbed.client)) == []
    stubbed.add_response("list_schedules", listed)
    stubbed.add_client_error("get_schedule", "AccessDeniedException", "not allowed")
    with pytest.raises(CtsiteError, match="could not list the safety-net schedules"):
        scheduler.find(serving(stubbed.client))
    stubbed.add_response("list_schedules", listed)
    stubbed.add_client_error("get_schedule", "AccessDeniedException", "not allowed")
    assert scheduler.find_quietly(serving(stubbed.client)) == []  # informational only


def test_arm_without_a_role_makes_nothing_and_with_a_missing_role_warns(moto_clients):
    warned: list[str] = []
    assert scheduler.arm(moto_clients, SERVER, "", 2.0, warned.append) is None
    assert warned == []  # "" means: no safety net wanted, silently
    assert scheduler.arm(moto_clients, SERVER, "no-such-role", 2.0, warned.append) is None
    assert len(warned) == 1
    assert f"no safety net for {SERVER}" in warned[0] and "no-such-role" in warned[0]
    assert "ctsite provision" in warned[0]
    assert scheduler.find(moto_clients) == []


def test_arm_then_disarm(moto_clients):
    iam = moto_clients("iam")
    trust = '{"Version":"2012-10-17","Statement":[]}'
    arn = iam.create_role(RoleName="reaper", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    net = scheduler.arm(moto_clients, SERVER, "reaper", 3.0, pytest.fail)
    assert net is not None and net.server_id == SERVER
    made = moto_clients("scheduler").get_schedule(Name=net.name, GroupName="default")
    assert made["Target"]["RoleArn"] == arn
    scheduler.disarm(moto_clients, SERVER)
    assert scheduler.find(moto_clients) == []
    scheduler.disarm(moto_clients, SERVER)  # already gone: nothing to say


def test_a_refused_arm_warns_and_a_refused_disarm_is_quiet(stubbed, moto_clients):
    iam = moto_clients("iam")
    trust = '{"Version":"2012-10-17","Statement":[]}'
    iam.create_role(RoleName="reaper", AssumeRolePolicyDocument=trust)

    def factory(service, region=None, max_attempts=None):
        return stubbed.client if service == "scheduler" else moto_clients(service, region)

    warned: list[str] = []
    stubbed.add_client_error("create_schedule", "AccessDeniedException", "not allowed")
    assert scheduler.arm(factory, SERVER, "reaper", 2.0, warned.append) is None
    assert len(warned) == 1 and "AccessDeniedException: not allowed" in warned[0]
    stubbed.add_client_error("delete_schedule", "AccessDeniedException", "not allowed")
    scheduler.disarm(factory, SERVER)  # a leftover schedule only fires on a gone server
