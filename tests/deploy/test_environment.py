"""The environment chores called as workflows (`ctsite.deploy.environment`), with explicit
arguments and typed results, not through the CLI: Elastic Beanstalk is a real boto3 client under
botocore's Stubber (moto lacks these APIs), ECR, SNS and Transfer are moto's server, the
published tail logs a loopback HTTP server."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import boto3
import pytest

from ctsite.config import Settings, load_settings
from ctsite.deploy.environment.alerts import list_alerts, subscribe
from ctsite.deploy.environment.logs import follow_logs, new_lines, sections, select
from ctsite.deploy.environment.restart import restart_environment
from ctsite.deploy.environment.status import site_url, status, versions
from ctsite.deploy.environment.watch import events, health, since_time
from ctsite.errors import CtsiteError
from tests.cli.environment.test_logs import env, info, queue_tail, tail_text
from tests.cli.environment.test_watch import health_response, instances_response, newest_first
from tests.support.ebtest import application_version, event, when
from tests.support.reltest import APP, ENV, REGION
from tests.support.reporting import RecordingReporter

ENV_QUERY = {"ApplicationName": APP, "EnvironmentNames": [ENV], "IncludeDeleted": False}
APP_ENVS = {"ApplicationName": APP, "IncludeDeleted": False}
EVENTS = {"ApplicationName": APP, "EnvironmentName": ENV}


def settings(project: Path) -> Settings:
    return load_settings(config_file=project / "ctsite.toml")


def version(label: str, day: int) -> dict[str, Any]:
    """An ApplicationVersionDescription as Elastic Beanstalk returns it."""
    return application_version(label, dt.datetime(2026, 1, day, tzinfo=dt.UTC))


def no_sleep(_: float) -> None:
    return None


def test_sections_select_and_new_lines() -> None:
    text = "preamble\n" + tail_text(["a", "b"], ["w1"])
    found = sections(text)
    assert found == [
        ("", ["preamble"]),
        ("/var/log/eb-engine.log", ["a", "b"]),
        ("/var/log/web.stdout.log", ["w1"]),
    ]
    assert select(found, "eb-engine.log") == [("/var/log/eb-engine.log", ["a", "b"])]
    assert select(found, "/var/log/eb-engine.log") == [("/var/log/eb-engine.log", ["a", "b"])]
    assert select(found, "engine.log") == []
    assert select(found, None) == found
    assert new_lines(["a", "b", "c"], ["b", "c", "d", "e"]) == ["d", "e"]
    assert new_lines(["a", "b"], ["a", "b"]) == []
    assert new_lines(["x"], ["a", "b"]) == ["a", "b"]
    assert new_lines([], ["a"]) == ["a"]


def test_since_time() -> None:
    now = dt.datetime(2026, 1, 2, 12, tzinfo=dt.UTC)
    assert since_time("30m", now) == now - dt.timedelta(minutes=30)
    assert since_time("1d", now) == now - dt.timedelta(days=1)
    assert since_time("2026-01-02T03:04", now) == dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC)
    assert since_time(None, now) is None
    with pytest.raises(CtsiteError, match="neither an age nor a date"):
        since_time("yesterday", now)


def test_status_is_one_typed_result(release_project: Path, stubs: Any) -> None:
    """Environment, events, versions (the running one marked), images and ctsite's servers."""
    boto3.client("ecr", region_name=REGION).create_repository(repositoryName="ct-site")
    server = stubs("transfer").create_server(Tags=[{"Key": "ctsite:ephemeral", "Value": "true"}])
    stubs("transfer").create_server(Tags=[{"Key": "team", "Value": "other"}])
    stubs.eb.add_response("describe_environments", {"Environments": [env(version="v2")]}, ENV_QUERY)
    stubs.eb.add_response("describe_events", newest_first([event(9, "health is Ok.")]), EVENTS)
    stubs.eb.add_response(
        "describe_application_versions",
        {"ApplicationVersions": [version("v1", 1), version("v2", 2)]},
        {"ApplicationName": APP},
    )
    s = settings(release_project)
    result = status(s, stubs, events=5)
    assert (result.environment.name, result.environment.version) == (ENV, "v2")
    assert result.environment.url == "http://ctsite.example.com"
    assert [e["Message"] for e in result.events] == ["health is Ok."]
    assert [(v.label, v.deployed) for v in result.versions] == [("v2", True), ("v1", False)]
    assert (result.images, result.images_error) == ([], None)
    assert [found.server_id for found in result.servers or []] == [server["ServerId"]]
    assert result.hourly_cost == s.transfer_hourly_cost
    assert (result.alarms, result.alarms_error) == ([], None)  # none provisioned
    stubs.assert_done()


def test_status_lists_the_environments_alarms_only(release_project: Path, stubs: Any) -> None:
    """Its <environment>-<what> alarms: not another environment's whose name extends it."""
    from ctsite.deploy.environment.status import environment_alarms

    cw = stubs("cloudwatch")
    for name in (f"{ENV}-memory", f"{ENV}-health", f"{ENV}-staging-memory", "other-memory"):
        cw.put_metric_alarm(
            AlarmName=name,
            Namespace="CWAgent",
            MetricName="mem_used_percent",
            Statistic="Maximum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=90.0,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
        )
    cw.set_alarm_state(AlarmName=f"{ENV}-memory", StateValue="ALARM", StateReason="93 %")
    found = environment_alarms(stubs, ENV)
    assert [(a.name, a.state, a.reason) for a in found] == [
        (f"{ENV}-health", "OK", found[0].reason),
        (f"{ENV}-memory", "ALARM", "93 %"),
    ]


def queue_versions(stubs: Any) -> None:
    stubs.eb.add_response("describe_environments", {"Environments": [env(version="v1")]}, APP_ENVS)
    stubs.eb.add_response(
        "describe_application_versions",
        {"ApplicationVersions": [version(f"v{i}", i) for i in (1, 2, 3, 4)]},
        {"ApplicationName": APP},
    )


def test_versions_prune_dry_run_and_refused_delete_nothing(
    release_project: Path, stubs: Any
) -> None:
    """No delete call is queued: the Stubber fails the test if the workflow makes one."""
    s = settings(release_project)
    queue_versions(stubs)
    planned = versions(s, stubs, prune=True, keep=1, dry_run=True)
    assert planned.dry_run and planned.pruned == ["v3", "v2"]  # never v1, it runs
    assert [v.label for v in planned.versions] == ["v4", "v3", "v2", "v1"]
    asked: list[list[str]] = []
    queue_versions(stubs)
    refused = versions(s, stubs, prune=True, keep=1, confirm=lambda doomed: asked.append(doomed))
    assert asked == [["v3", "v2"]] and refused.pruned == []
    stubs.assert_done()


def test_versions_prune_deletes_after_confirmation(release_project: Path, stubs: Any) -> None:
    queue_versions(stubs)
    for label in ("v3", "v2"):
        stubs.eb.add_response(
            "delete_application_version",
            {},
            {"ApplicationName": APP, "VersionLabel": label, "DeleteSourceBundle": True},
        )
    reporter = RecordingReporter()
    done = versions(
        settings(release_project), stubs, prune=True, keep=1, confirm=bool, reporter=reporter
    )
    assert done.pruned == ["v3", "v2"] and not done.dry_run
    assert reporter.infos == ["deleted v3", "deleted v2"]
    stubs.assert_done()


def test_site_url_needs_a_url(release_project: Path, stubs: Any) -> None:
    s = settings(release_project)
    stubs.eb.add_response("describe_environments", {"Environments": [env()]}, ENV_QUERY)
    assert site_url(s, stubs) == "http://ctsite.example.com"
    # a launching environment has neither an address nor a load balancer yet
    launching = {k: v for k, v in env("Launching").items() if k not in ("CNAME", "EndpointURL")}
    stubs.eb.add_response("describe_environments", {"Environments": [launching]}, ENV_QUERY)
    with pytest.raises(CtsiteError, match=f"{ENV} has no URL yet"):
        site_url(s, stubs)
    stubs.assert_done()


def test_restart_environment_says_why_and_waits_until_ready(
    release_project: Path, stubs: Any
) -> None:
    s = settings(release_project)
    with pytest.raises(CtsiteError, match="--poll must be positive"):
        restart_environment(s, stubs, poll_s=0)  # before any AWS call
    stubs.eb.add_response("describe_environments", {"Environments": [env()]}, ENV_QUERY)
    stubs.eb.add_response("restart_app_server", {}, {"EnvironmentName": ENV})
    stubs.eb.add_response("describe_environments", {"Environments": [env("Updating")]}, ENV_QUERY)
    stubs.eb.add_response("describe_environments", {"Environments": [env()]}, ENV_QUERY)
    reporter = RecordingReporter()
    state = restart_environment(s, stubs, poll_s=0.01, reporter=reporter, why="for the new data")
    assert (state.name, state.status, state.version) == (ENV, "Ready", "v1")
    assert reporter.infos == [f"restarting the app servers of {ENV} for the new data"]
    stubs.assert_done()


def test_follow_logs_hands_each_new_line_over_once(
    release_project: Path, stubs: Any, http_logs: dict[str, str]
) -> None:
    base = http_logs["base"]
    http_logs["/t1"] = tail_text(["step 1", "step 2"], [])
    http_logs["/t2"] = tail_text(["step 2", "step 3"], ["web up"])
    queue_tail(stubs, [[info(f"{base}/t1", "i-1")]])
    queue_tail(stubs, [[info(f"{base}/t2", "i-1")]])
    received: list[tuple[str, str, list[str]]] = []
    reporter = RecordingReporter()
    count = follow_logs(
        settings(release_project),
        stubs,
        lambda instance, path, lines: received.append((instance, path, lines)),
        follow=True,
        interval=0.01,
        polls=1,
        sleep=no_sleep,
        reporter=reporter,
    )
    assert received == [
        ("i-1", "/var/log/eb-engine.log", ["step 1", "step 2"]),
        ("i-1", "/var/log/eb-engine.log", ["step 3"]),
        ("i-1", "/var/log/web.stdout.log", ["web up"]),
    ]
    assert count == 4
    assert reporter.infos == [f"following the logs of {ENV} (Ctrl-C to stop)"]
    stubs.assert_done()


def test_events_follow_hands_each_event_over_once(release_project: Path, stubs: Any) -> None:
    first = event(1, "updateEnvironment is starting.")
    second = event(30, "Instance deployment failed.", "ERROR")
    stubs.eb.add_response("describe_events", newest_first([first]), EVENTS)
    stubs.eb.add_response(
        "describe_events", newest_first([first]), {**EVENTS, "StartTime": when(1)}
    )
    stubs.eb.add_response(
        "describe_events", newest_first([first, second]), {**EVENTS, "StartTime": when(1)}
    )
    received: list[dict[str, Any]] = []
    count = events(
        settings(release_project),
        stubs,
        received.append,
        follow=True,
        interval=0.01,
        polls=2,
        sleep=no_sleep,
    )
    assert count == 2
    assert [e["Message"] for e in received] == [first["Message"], second["Message"]]
    stubs.assert_done()


def test_health_is_a_typed_result(release_project: Path, stubs: Any) -> None:
    query = {"EnvironmentName": ENV, "AttributeNames": ["All"]}
    stubs.eb.add_response("describe_environment_health", health_response("Red", "Degraded"), query)
    stubs.eb.add_response("describe_instances_health", instances_response(), query)
    result = health(settings(release_project), stubs)
    assert (result.environment, result.health, result.color) == (ENV, "Degraded", "Red")
    assert result.causes == ["50.0 % of the requests are failing with HTTP 5xx."]
    assert result.instances_by_state == {"Ok": 1, "Degraded": 1}
    [instance] = result.instances
    assert (instance.instance, instance.version, instance.zone) == (
        "i-0123456789abcdef0",
        "v2",
        "us-east-2a",
    )
    stubs.assert_done()


def test_alerts_on_an_explicit_topic_need_no_environment(release_project: Path, stubs: Any) -> None:
    sns = boto3.client("sns", region_name=REGION)
    topic = str(sns.create_topic(Name="lab-alerts")["TopicArn"])
    s = settings(release_project)
    made = subscribe(s, stubs, "new.member@lab.org", topic)
    assert made.topic == topic and made.created
    assert made.subscription.endpoint == "new.member@lab.org"
    listed = list_alerts(s, stubs, topic)
    assert [(sub.protocol, sub.endpoint) for sub in listed.subscriptions] == [
        ("email", "new.member@lab.org")
    ]
    stubs.assert_done()  # no Elastic Beanstalk call was made
