"""The CloudWatch alarm reads (`ctsite.aws.cloudwatch`): against moto's CloudWatch, and under
botocore's Stubber for a second page (moto answers in one) and a failing call."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from ctsite.aws import cloudwatch
from ctsite.errors import CtsiteError

ENV_DIMENSION = [{"Name": "EnvironmentName", "Value": "site-env"}]


def _plain(client: Any, name: str) -> None:
    client.put_metric_alarm(
        AlarmName=name,
        Namespace="CWAgent",
        MetricName="mem_used_percent",
        Dimensions=ENV_DIMENSION,
        Statistic="Maximum",
        Period=300,
        EvaluationPeriods=2,
        Threshold=90.0,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )


def _stat(name: str) -> dict[str, Any]:
    metric = {"Namespace": "AWS/ElasticBeanstalk", "MetricName": name, "Dimensions": ENV_DIMENSION}
    return {"Metric": metric, "Period": 300, "Stat": "Sum"}


def test_alarms_by_prefix_with_their_states_and_metric_counts(moto_clients: Any) -> None:
    client = moto_clients("cloudwatch")
    _plain(client, "site-env-memory")
    _plain(client, "other-memory")
    client.put_metric_alarm(
        AlarmName="site-env-5xx",
        EvaluationPeriods=2,
        Threshold=5.0,
        ComparisonOperator="GreaterThanThreshold",
        Metrics=[
            {"Id": "errors", "MetricStat": _stat("ApplicationRequests5xx"), "ReturnData": False},
            {
                "Id": "requests",
                "MetricStat": _stat("ApplicationRequestsTotal"),
                "ReturnData": False,
            },
            {"Id": "rate", "Expression": "100 * errors / requests", "ReturnData": True},
        ],
    )
    client.set_alarm_state(AlarmName="site-env-memory", StateValue="ALARM", StateReason="93 %")
    found = cloudwatch.alarms(moto_clients, "site-env-")
    assert [(a.name, a.state, a.metrics) for a in found] == [
        ("site-env-5xx", "OK", 2),
        ("site-env-memory", "ALARM", 1),
    ]
    assert found[1].reason == "93 %" and found[1].updated is not None
    assert sum(a.metrics for a in cloudwatch.alarms(moto_clients)) == 4


def test_every_page_is_read_and_a_failure_is_one_line() -> None:
    client = boto3.client("cloudwatch", region_name="us-east-2")
    stub = Stubber(client)
    page = {"AlarmTypes": ["MetricAlarm"], "AlarmNamePrefix": "site-env-"}
    stub.add_response(
        "describe_alarms",
        {"MetricAlarms": [{"AlarmName": "site-env-memory", "StateValue": "OK"}], "NextToken": "t"},
        page,
    )
    stub.add_response(
        "describe_alarms",
        {"MetricAlarms": [{"AlarmName": "site-env-health", "StateValue": "ALARM"}]},
        {**page, "NextToken": "t"},
    )
    stub.add_client_error("describe_alarms", "AccessDenied", "not allowed: cloudwatch:Describe")
    with stub:
        found = cloudwatch.alarms(lambda *_a, **_k: client, "site-env-")
        assert [(a.name, a.state) for a in found] == [
            ("site-env-health", "ALARM"),
            ("site-env-memory", "OK"),
        ]
        with pytest.raises(CtsiteError, match="could not list the CloudWatch alarms"):
            cloudwatch.alarms(lambda *_a, **_k: client)
    stub.assert_no_pending_responses()


def test_metric_count_of_template_properties() -> None:
    assert cloudwatch.metric_count({"MetricName": "EnvironmentHealth"}) == 1
    assert cloudwatch.metric_count({"Metrics": [{"MetricStat": {}}, {"Expression": "m1"}]}) == 1
