"""The environment's alarms in the template: what each watches is what the environment really
publishes (the CloudWatch agent's memory metric from .ebextensions, the enhanced-health request
counts the template asks for, EnvironmentHealth), each goes to the environment's SNS topic, the
thresholds come from the [provision] settings, and production plus staging stay within
CloudWatch's free 10 alarm metrics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from ctsite.aws.cloudformation import load_template
from ctsite.config import load_settings
from ctsite.deploy.pricing import FREE_ALARM_METRICS
from ctsite.deploy.provision import environments
from ctsite.deploy.provision.check import expected_options, resolve
from ctsite.deploy.provision.stack import template_alarms
from ctsite.errors import ConfigError
from tests.support.ebtest import REPO

NETWORK = environments.Network("vpc-1", ["subnet-a"])
STACK = "64bit Amazon Linux 2023 v4.6.0 running Docker"
AGENT_CONFIG = ".ebextensions/03-cloudwatch-memory.config"
# Elastic Beanstalk replaces this backquoted expression of a config file with the environment's
# name when it writes the file on the instance.
EB_ENVIRONMENT_NAME = '`{"Ref": "AWSEBEnvironmentName"}`'
ALARMS = {"MemoryAlarm", "ServerErrorAlarm", "HealthAlarm"}


def _params(tmp_path: Path, env: str = "production", **overrides: object) -> dict[str, str]:
    s = load_settings(root=tmp_path, environ={}, overrides=overrides)
    return environments.stack_parameters(
        s, environments.resolve_environment(s, env), STACK, NETWORK
    )


def _alarms(params: dict[str, str]) -> dict[str, dict[str, Any]]:
    """logical id → the alarm's properties resolved for `params` (the topic's Ref kept)."""
    doc = load_template(environments.template_text())
    return {
        logical: resolve(spec["Properties"], params, doc["Conditions"])
        for logical, spec in doc["Resources"].items()
        if spec["Type"] == "AWS::CloudWatch::Alarm"
    }


def _agent(environment: str) -> dict[str, Any]:
    """The CloudWatch agent configuration the instance gets, as EB writes it for `environment`."""
    doc = yaml.safe_load((REPO / AGENT_CONFIG).read_text())
    (agent_file,) = doc["files"].values()
    assert EB_ENVIRONMENT_NAME in agent_file["content"]
    return json.loads(agent_file["content"].replace(EB_ENVIRONMENT_NAME, environment))


def _dimensions(found: list[dict[str, str]]) -> dict[str, str]:
    return {d["Name"]: d["Value"] for d in found}


def test_three_alarms_per_environment_all_to_its_topic() -> None:
    doc = load_template(environments.template_text())
    alarms = {k: v for k, v in doc["Resources"].items() if v["Type"] == "AWS::CloudWatch::Alarm"}
    assert set(alarms) == ALARMS
    for logical, spec in alarms.items():
        assert "Condition" not in spec, logical  # staging gets its own, like its topic
        props = spec["Properties"]
        assert props["AlarmActions"] == [{"Ref": "NotificationTopic"}], logical
        assert props["OKActions"] == [{"Ref": "NotificationTopic"}], logical


@pytest.mark.parametrize("env", ["production", "staging"])
def test_memory_alarm_watches_what_the_agent_publishes(tmp_path: Path, env: str) -> None:
    """Namespace, metric and dimensions exactly as the agent sends them: the series rolled up
    to EnvironmentName (instance ids change with every replacement), worst instance."""
    params = _params(tmp_path, env)
    name = params["EnvironmentName"]
    metrics = _agent(name)["metrics"]
    alarm = _alarms(params)["MemoryAlarm"]
    assert alarm["Namespace"] == metrics["namespace"] == "CWAgent"
    assert [alarm["MetricName"]] == metrics["metrics_collected"]["mem"]["measurement"]
    assert _dimensions(alarm["Dimensions"]) == {"EnvironmentName": name}
    assert metrics["aggregation_dimensions"] == [list(_dimensions(alarm["Dimensions"]))]
    assert metrics["metrics_collected"]["mem"]["append_dimensions"] == {"EnvironmentName": name}
    assert alarm["Statistic"] == "Maximum"
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (
        "90",
        "GreaterThanOrEqualToThreshold",
    )


def test_5xx_alarm_reads_the_request_counts_the_environment_publishes(tmp_path: Path) -> None:
    """Enhanced health publishes request counts only when its ConfigDocument asks: the alarm's
    metrics are exactly those, per environment, and it alarms on their ratio."""
    params = _params(tmp_path, provision_alarm_5xx_percent=2.5)
    options = expected_options(environments.template_text(), params)
    config = json.loads(options["aws:elasticbeanstalk:healthreporting:system", "ConfigDocument"])
    published = config["CloudWatchMetrics"]["Environment"]
    alarm = _alarms(params)["ServerErrorAlarm"]
    stats = {q["Id"]: q["MetricStat"] for q in alarm["Metrics"] if "MetricStat" in q}
    assert {s["Metric"]["MetricName"] for s in stats.values()} == set(published)
    for stat in stats.values():
        assert stat["Metric"]["Namespace"] == "AWS/ElasticBeanstalk"
        assert _dimensions(stat["Metric"]["Dimensions"]) == {
            "EnvironmentName": "Contacttracingsite-env"
        }
        assert stat["Stat"] == "Sum"
    (rate,) = [q for q in alarm["Metrics"] if "Expression" in q]
    assert set(stats) == {"errors", "requests"}
    assert rate["Expression"] == "IF(requests > 0, 100 * errors / requests, 0)"
    assert rate["ReturnData"] is True
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == ("2.5", "GreaterThanThreshold")
    assert alarm["TreatMissingData"] == "notBreaching"  # no traffic is no failure


@pytest.mark.parametrize(
    ("level", "value"), [("Warning", "15"), ("degraded", "20"), ("Severe", "25")]
)
def test_health_alarm_level_is_a_setting(tmp_path: Path, level: str, value: str) -> None:
    alarm = _alarms(_params(tmp_path, provision_alarm_health=level))["HealthAlarm"]
    assert (alarm["Namespace"], alarm["MetricName"]) == (
        "AWS/ElasticBeanstalk",
        "EnvironmentHealth",
    )
    assert _dimensions(alarm["Dimensions"]) == {"EnvironmentName": "Contacttracingsite-env"}
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (
        value,
        "GreaterThanOrEqualToThreshold",
    )


def test_bad_alarm_settings_are_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="provision_alarm_health must be one of Warning"):
        _params(tmp_path, provision_alarm_health="Red")
    (tmp_path / "ctsite.toml").write_text("[provision]\nalarm_memory_percent = 150\n")
    # named as the file wrote it
    with pytest.raises(ConfigError, match=r"\[provision\] alarm_memory_percent = 150"):
        load_settings(root=tmp_path, environ={})


def test_production_and_staging_stay_within_the_free_tier(tmp_path: Path) -> None:
    """Four alarm metrics each (the 5xx share reads two), distinct names, 8 of the free 10."""
    text = environments.template_text()
    prod = template_alarms(text, _params(tmp_path, "production"))
    staging = template_alarms(text, _params(tmp_path, "staging"))
    assert prod == {
        "Contacttracingsite-env-memory": 1,
        "Contacttracingsite-env-5xx": 2,
        "Contacttracingsite-env-health": 1,
    }
    assert set(staging) == {
        "Contacttracingsite-staging-memory",
        "Contacttracingsite-staging-5xx",
        "Contacttracingsite-staging-health",
    }
    assert sum(prod.values()) + sum(staging.values()) == 8 <= FREE_ALARM_METRICS
