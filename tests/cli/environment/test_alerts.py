"""`ctsite alerts subscribe / list`: the topic from the environment's configuration settings
(Stubber) or from eb_notification_topic, subscriptions in moto's SNS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from ctsite.cli import app
from ctsite.errors import CtsiteError
from tests.support.cli import run_ctsite
from tests.support.reltest import ACCOUNT, APP, ENV, REGION

CONFIG_QUERY = {"ApplicationName": APP, "EnvironmentName": ENV}


def invoke(stubs: Any, *args: str) -> Any:
    return CliRunner().invoke(app, list(args), obj={"aws_client": stubs})


def env_topic(stubs: Any, arn: str | None) -> None:
    """describe_configuration_settings: the SNS option among others (or no topic at all)."""
    options = [
        {"Namespace": "aws:autoscaling:asg", "OptionName": "MinSize", "Value": "1"},
        {"Namespace": "aws:elasticbeanstalk:sns:topics", "OptionName": "Notification Protocol",
         "Value": "email"},
    ]  # fmt: skip
    if arn:
        options.append(
            {
                "Namespace": "aws:elasticbeanstalk:sns:topics",
                "OptionName": "Notification Topic ARN",
                "Value": arn,
            }
        )
    stubs.eb.add_response(
        "describe_configuration_settings",
        {"ConfigurationSettings": [{"ApplicationName": APP, "OptionSettings": options}]},
        CONFIG_QUERY,
    )


@pytest.fixture
def topic(stubs: Any) -> str:
    sns = boto3.client("sns", region_name=REGION)
    return str(sns.create_topic(Name="ElasticBeanstalkNotifications-Environment-ct")["TopicArn"])


def test_subscribe_then_list_says_pending(release_project: Path, stubs: Any, topic: str) -> None:
    env_topic(stubs, topic)
    result = invoke(stubs, "alerts", "subscribe", "new.member@lab.org")
    assert result.exit_code == 0, result.output
    assert f"subscribed new.member@lab.org to {topic}" in result.output
    assert "the recipient must confirm" in result.output
    subs = boto3.client("sns", region_name=REGION).list_subscriptions_by_topic(TopicArn=topic)
    assert [(s["Protocol"], s["Endpoint"]) for s in subs["Subscriptions"]] == [
        ("email", "new.member@lab.org")
    ]
    env_topic(stubs, topic)
    result = invoke(stubs, "alerts", "list")
    assert result.exit_code == 0, result.output
    assert f"alerts topic {topic}" in result.output
    assert "new.member@lab.org" in result.output
    stubs.assert_done()


def test_configured_topic_needs_no_eb_call(
    release_project: Path, stubs: Any, topic: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CTSITE_EB_NOTIFICATION_TOPIC", topic)
    result = invoke(stubs, "alerts", "list")
    assert result.exit_code == 0, result.output
    assert "no subscriptions" in result.output
    result = invoke(stubs, "alerts", "subscribe", "a@b.org", "--topic", topic)
    assert result.exit_code == 0, result.output
    stubs.assert_done()  # no Elastic Beanstalk call was queued or made


def test_environment_without_topic(release_project: Path, stubs: Any) -> None:
    env_topic(stubs, None)
    result = invoke(stubs, "alerts", "list")
    assert isinstance(result.exception, CtsiteError)
    assert result.exception.message == f"environment {ENV!r} has no notification topic"
    assert "Email notifications" in (result.exception.hint or "")
    stubs.assert_done()


def test_missing_topic(release_project: Path, stubs: Any) -> None:
    gone = f"arn:aws:sns:{REGION}:{ACCOUNT}:deleted-topic"
    env_topic(stubs, gone)
    result = invoke(stubs, "alerts", "subscribe", "a@b.org")
    assert isinstance(result.exception, CtsiteError)
    assert result.exception.message == f"SNS topic {gone} not found"
    stubs.assert_done()


def test_missing_environment(release_project: Path, stubs: Any) -> None:
    stubs.eb.add_client_error(
        "describe_configuration_settings",
        service_error_code="InvalidParameterValue",
        service_message=f"No Environment found for EnvironmentName = '{ENV}'.",
        expected_params=CONFIG_QUERY,
    )
    result = invoke(stubs, "alerts", "list")
    assert isinstance(result.exception, CtsiteError)
    assert result.exception.message == (
        f"Elastic Beanstalk environment {ENV!r} of application {APP!r} not found"
    )
    stubs.assert_done()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["alerts", "subscribe", "not-an-address", "--topic", "arn:aws:sns:us-east-2:123456789012:t"],
         "not an e-mail address: 'not-an-address'"),
        (["alerts", "list", "--topic", "my-topic"], "not an SNS topic ARN: 'my-topic'"),
    ],
)  # fmt: skip
def test_bad_input(release_project: Path, stubs: Any, args: list[str], message: str) -> None:
    result = invoke(stubs, *args)
    assert isinstance(result.exception, CtsiteError)
    assert result.exception.message == message
    assert result.exception.exit_code == 2


def test_cli_subprocess_reports_one_line(release_project: Path, stubs: Any) -> None:
    """Through `python -m ctsite`: a bad address is one red line and exit code 2, no traceback."""
    done = run_ctsite(
        *("-c", str(release_project / "ctsite.toml"), "alerts", "subscribe", "nobody"),
        *("--topic", f"arn:aws:sns:{REGION}:{ACCOUNT}:t"),
        cwd=release_project,  # its own ctsite/ folder is not on the path (python -P)
        timeout=60,
    )
    assert done.returncode == 2
    assert "error: not an e-mail address: 'nobody'" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_subscribing_twice_says_already_subscribed(
    release_project: Path, stubs: Any, topic: str
) -> None:
    for _ in range(2):
        result = invoke(stubs, "alerts", "subscribe", "x@lab.org", "--topic", topic)
        assert result.exit_code == 0, result.output
    # moto confirms e-mail subscriptions at once; AWS would keep the first one pending.
    assert "x@lab.org is already subscribed (confirmed)" in result.output
    subs = boto3.client("sns", region_name=REGION).list_subscriptions_by_topic(TopicArn=topic)
    assert len(subs["Subscriptions"]) == 1


def test_unreachable_endpoint_is_one_clear_line(
    release_project: Path, aws_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.reltest import free_port

    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")  # nothing there
    arn = f"arn:aws:sns:{REGION}:{ACCOUNT}:t"
    result = CliRunner().invoke(app, ["alerts", "list", "--topic", arn])  # real boto3 clients
    assert isinstance(result.exception, CtsiteError)
    assert result.exception.message.startswith(
        f"could not list the subscriptions of the SNS topic {arn}: cannot reach the AWS endpoint"
    )
    assert "AWS_ENDPOINT_URL" in (result.exception.hint or "")
