"""`ctsite restart` end to end: Elastic Beanstalk calls validated by botocore's Stubber."""

from __future__ import annotations

from typing import Any

from ctsite.errors import CtsiteError
from tests.cli.environment.test_logs import ENV_QUERY, env, invoke
from tests.support.reltest import ENV


def test_restart_waits_until_ready(release_project: Any, stubs: Any) -> None:
    stubs.eb.add_response("describe_environments", {"Environments": [env()]}, ENV_QUERY)
    stubs.eb.add_response("restart_app_server", {}, {"EnvironmentName": ENV})
    stubs.eb.add_response("describe_environments", {"Environments": [env("Updating")]}, ENV_QUERY)
    stubs.eb.add_response("describe_environments", {"Environments": [env()]}, ENV_QUERY)
    result = invoke(stubs, "restart", "--poll", "0.01")
    assert result.exit_code == 0, result.output
    assert f"{ENV} is Ready, health Green" in result.output
    stubs.assert_done()


def test_restart_refuses_a_busy_or_missing_environment(release_project: Any, stubs: Any) -> None:
    stubs.eb.add_response("describe_environments", {"Environments": [env("Updating")]}, ENV_QUERY)
    result = invoke(stubs, "restart")
    assert isinstance(result.exception, CtsiteError)
    assert "is Updating, not Ready" in result.exception.message
    stubs.eb.add_response("describe_environments", {"Environments": []}, ENV_QUERY)
    result = invoke(stubs, "restart", "--env", ENV)
    assert isinstance(result.exception, CtsiteError)
    assert "not found" in result.exception.message
    stubs.assert_done()


def test_restart_aws_error_is_one_clear_line(release_project: Any, stubs: Any) -> None:
    stubs.eb.add_response("describe_environments", {"Environments": [env()]}, ENV_QUERY)
    stubs.eb.add_client_error(
        "restart_app_server",
        service_error_code="AccessDenied",
        service_message="not allowed to restart",
        expected_params={"EnvironmentName": ENV},
    )
    result = invoke(stubs, "restart")
    assert isinstance(result.exception, CtsiteError)
    assert result.exception.message == (
        f"could not restart the app servers of {ENV!r}: AWS AccessDenied: not allowed to restart"
    )
    assert "IAM policy" in (result.exception.hint or "")
