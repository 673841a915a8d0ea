"""The alarms end to end on moto's server: `provision plan/apply` (workflow and CLI) counts them
against CloudWatch's free 10 with the region's other alarms, and `ctsite status` shows their
states, an alarm set to ALARM with CloudWatch's reason.

moto's CloudFormation (5.2) skips `AWS::CloudWatch::Alarm` (a UserWarning, the stack completes
without them), so `_create_like_cloudformation` does CloudFormation's part: it resolves each
alarm of the deployed template with the stack's parameters and topic and calls
`put_metric_alarm` with the properties (CloudFormation's property names are the API's). moto's
CloudWatch then holds the alarms the real stack would, and botocore validates every value.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ctsite.aws.cloudformation import CloudFormation
from ctsite.cli import app
from ctsite.config import load_settings
from ctsite.deploy.pricing import AlarmTier
from ctsite.deploy.provision import environments, stack
from ctsite.deploy.provision.check import resolve
from tests.support.ebtest import APP, ENV, application_version, env_description, when

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
SOLUTION_STACK = "64bit Amazon Linux 2023 v4.6.0 running Docker"
INTEGERS = ("Period", "EvaluationPeriods", "DatapointsToAlarm")


def _numbers(value: Any) -> Any:
    """Template values as the API types them (a Ref to a Number parameter is a string)."""
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {k: _numbers(v) for k, v in value.items()}
    for key in INTEGERS:
        if key in out:
            out[key] = int(out[key])
    if "Threshold" in out:
        out["Threshold"] = float(out["Threshold"])
    return out


def _create_like_cloudformation(clients: Any, stack_name: str) -> list[str]:
    """Create the stack's alarms as CloudFormation would (see the module docstring)."""
    cfn = CloudFormation(clients)
    template, params = cfn.deployed(stack_name)
    known = {**params, "NotificationTopic": cfn.resources(stack_name)["NotificationTopic"]}
    made = []
    for spec in template["Resources"].values():
        if spec["Type"] != "AWS::CloudWatch::Alarm":
            continue
        props = _numbers(resolve(spec["Properties"], known, template.get("Conditions") or {}))
        clients("cloudwatch").put_metric_alarm(**props)
        made.append(props["AlarmName"])
    return made


def _plan(clients: Any, s: Any, env: str) -> stack.Plan:
    return stack.plan_environment(s, environments.resolve_environment(s, env), clients)


def _json(output: str) -> Any:
    """The command's JSON document (moto's in-process server logs its CloudFormation warnings
    to the same stdout before it)."""
    return json.loads(output[output.index("{\n") :])


def invoke(clients: Any, *args: str) -> Any:
    return CliRunner().invoke(app, list(args), obj={"aws_client": clients}, env={"COLUMNS": "2000"})


def test_plan_counts_alarms_and_status_shows_their_states(project: Path, clients: Any) -> None:
    s = load_settings(root=project, overrides={"provision_solution_stack": SOLUTION_STACK})
    cfn = CloudFormation(clients)
    production = _plan(clients, s, "production")
    added = {r.logical_id for r in production.rows if r.resource_type == "AWS::CloudWatch::Alarm"}
    assert added == {"MemoryAlarm", "ServerErrorAlarm", "HealthAlarm"}
    assert production.alarms == AlarmTier(stack=4, others=0)
    stack.apply(cfn, production, poll_s=0.05)
    assert clients("cloudwatch").describe_alarms()["MetricAlarms"] == []  # moto skipped them
    made = _create_like_cloudformation(clients, "ctsite-production")
    assert sorted(made) == [f"{ENV}-5xx", f"{ENV}-health", f"{ENV}-memory"]
    topic = cfn.resources("ctsite-production")["NotificationTopic"]
    for alarm in clients("cloudwatch").describe_alarms()["MetricAlarms"]:
        assert alarm["AlarmActions"] == alarm["OKActions"] == [topic]

    # production unchanged still shows the count; its own alarms are not counted twice
    again = _plan(clients, s, "production")
    assert again.alarms == AlarmTier(stack=4, others=0)

    # staging: its own four plus production's, 8 of the free 10 (CLI, text and JSON)
    result = invoke(clients, "provision", "plan", "--env", "staging", "--json")
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert _json(result.output)["alarms"] == {
        "stack": 4,
        "others": 4,
        "total": 8,
        "free": 10,
        "within_free_tier": True,
        "monthly_usd": 0.0,
    }
    result = invoke(clients, "provision", "apply", "--env", "staging", "--yes", "--poll", "0.05")
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert (
        "alarms: 4 alarm metric(s) in this stack + 4 other(s) in the region = 8 of CloudWatch's "
        "free 10"
    ) in result.output
    _create_like_cloudformation(clients, "ctsite-staging")

    # a third environment would pass the free tier: said, with what it costs
    result = invoke(clients, "provision", "plan", "--env", "Lab2-site")
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert (
        "alarms: 4 alarm metric(s) in this stack + 8 other(s) in the region = 12, over "
        "CloudWatch's free 10: ≈ $0.20/month"
    ) in result.output

    # `ctsite status`: production's alarms (not staging's) and their states
    clients("cloudwatch").set_alarm_state(
        AlarmName=f"{ENV}-memory",
        StateValue="ALARM",
        StateReason="Threshold Crossed: 2 datapoints [93.5, 91.2] >= 90.0",
    )
    clients("cloudwatch").set_alarm_state(
        AlarmName=f"{ENV}-health", StateValue="OK", StateReason="back to Ok"
    )
    clients("cloudwatch").set_alarm_state(
        AlarmName=f"{ENV}-5xx", StateValue="INSUFFICIENT_DATA", StateReason="no requests yet"
    )
    eb = clients.stub("elasticbeanstalk")
    query = {"ApplicationName": APP, "EnvironmentNames": [ENV], "IncludeDeleted": False}
    for _ in range(2):
        eb.add_response("describe_environments", {"Environments": [env_description()]}, query)
        eb.add_response(
            "describe_events", {"Events": []}, {"ApplicationName": APP, "EnvironmentName": ENV}
        )
        eb.add_response(
            "describe_application_versions",
            {"ApplicationVersions": [application_version("v-old", when(-60))]},
            {"ApplicationName": APP},
        )
    result = invoke(clients, "status")
    assert result.exit_code == 0, result.output + repr(result.exception)
    lines = [line.strip() for line in result.output.splitlines()]
    assert f"ALARM  {ENV}-memory  Threshold Crossed: 2 datapoints [93.5, 91.2] >= 90.0" in lines, (
        result.output
    )
    assert f"OK  {ENV}-health" in lines
    assert f"INSUFFICIENT_DATA  {ENV}-5xx  no requests yet" in lines
    assert "staging" not in result.output
    result = invoke(clients, "status", "--json")
    assert result.exit_code == 0, result.output + repr(result.exception)
    doc = _json(result.output)
    states = {a["name"]: a["state"] for a in doc["alarms"]}
    assert states == {
        f"{ENV}-5xx": "INSUFFICIENT_DATA",
        f"{ENV}-health": "OK",
        f"{ENV}-memory": "ALARM",
    }
    assert doc["alarms_error"] is None
