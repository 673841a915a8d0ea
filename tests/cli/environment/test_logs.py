"""`ctsite logs` end to end: Elastic Beanstalk calls validated by botocore's
Stubber, the published logs served by a real HTTP server on loopback."""

from __future__ import annotations

import datetime as dt
from typing import Any

from typer.testing import CliRunner

from ctsite.cli import app
from ctsite.errors import CtsiteError
from tests.support.cli import invoke_until_stopped
from tests.support.ebtest import env_description
from tests.support.reltest import APP, ENV

ENV_QUERY = {"ApplicationName": APP, "EnvironmentNames": [ENV], "IncludeDeleted": False}
TAIL = {"EnvironmentName": ENV, "InfoType": "tail"}
RULE = "-------------------------------------"


def tail_text(engine: list[str], web: list[str]) -> str:
    parts = [RULE, "/var/log/eb-engine.log", RULE, *engine, "", "", ""]
    parts += [RULE, "/var/log/web.stdout.log", RULE, *web, "", ""]
    return "\n".join(parts)


def env(status: str = "Ready", version: str = "v1") -> dict[str, Any]:
    """The environment as Elastic Beanstalk describes it."""
    return env_description(status, "Green", version, CNAME="ctsite.example.com")


def invoke(stubs: Any, *args: str) -> Any:
    return CliRunner().invoke(app, list(args), obj={"aws_client": stubs})


def queue_tail(stubs: Any, infos: list[list[dict[str, Any]]]) -> None:
    """describe env → request → one retrieve per element of `infos`."""
    stubs.eb.add_response("describe_environments", {"Environments": [env()]}, ENV_QUERY)
    stubs.eb.add_response("request_environment_info", {}, TAIL)
    for found in infos:
        stubs.eb.add_response("retrieve_environment_info", {"EnvironmentInfo": found}, TAIL)


def info(url: str, instance: str = "i-0abc", age_s: float = 0) -> dict[str, Any]:
    when = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=age_s)
    return {"InfoType": "tail", "Ec2InstanceId": instance, "SampleTimestamp": when, "Message": url}


def test_logs_waits_for_fresh_tails_and_prints_every_instance(
    release_project: Any, stubs: Any, http_logs: dict[str, str]
) -> None:
    base = http_logs["base"]
    http_logs["/i-1"] = tail_text(["engine one"], ["web one"])
    http_logs["/i-2"] = tail_text(["engine two"], ["web two"])
    stale = info(f"{base}/gone", age_s=3600)  # an old tail must not be printed
    queue_tail(stubs, [[stale], [info(f"{base}/i-1", "i-1"), info(f"{base}/i-2", "i-2"), stale]])
    result = invoke(stubs, "logs", "--interval", "0.01")
    assert result.exit_code == 0, result.output
    for text in ("engine one", "web one", "engine two", "web two", "/var/log/eb-engine.log"):
        assert text in result.output
    assert result.output.index("i-1") < result.output.index("i-2")
    stubs.assert_done()


def test_logs_file_filter(release_project: Any, stubs: Any, http_logs: dict[str, str]) -> None:
    http_logs["/i-1"] = tail_text(["engine line"], ["web line"])
    queue_tail(stubs, [[info(http_logs["base"] + "/i-1")]])
    result = invoke(stubs, "logs", "--file", "eb-engine.log")
    assert result.exit_code == 0, result.output
    assert "engine line" in result.output and "web line" not in result.output
    queue_tail(stubs, [[info(http_logs["base"] + "/i-1")]])
    result = invoke(stubs, "logs", "--file", "nginx/error.log")
    assert result.exit_code == 0
    assert "no nginx/error.log in its tail logs" in result.output
    stubs.assert_done()


def test_logs_follow_until_ctrl_c_prints_new_lines_once(
    release_project: Any, stubs: Any, http_logs: dict[str, str]
) -> None:
    base = http_logs["base"]
    http_logs["/t1"] = tail_text(["step 1", "step 2"], [])
    http_logs["/t2"] = tail_text(["step 2", "step 3"], [])
    http_logs["/t3"] = tail_text(["step 3"], [])
    for name in ("t1", "t2", "t3"):  # the environment is Ready all along: still followed
        queue_tail(stubs, [[info(f"{base}/{name}")]])
    calls = {"n": 0}

    def ctrl_c(**_: Any) -> None:  # Ctrl-C at the fourth round
        calls["n"] += 1
        if calls["n"] > 3:
            raise KeyboardInterrupt

    service = stubs.eb.client.meta.service_model.service_id.hyphenize()
    stubs.eb.client.meta.events.register(
        f"provide-client-params.{service}.DescribeEnvironments", ctrl_c
    )
    result = invoke_until_stopped(["logs", "--follow", "--interval", "0.01"], {"aws_client": stubs})
    assert result.exit_code == 130, result.output
    assert "error: stopped by Ctrl-C (SIGINT)" in result.output
    assert result.output.count("step 2") == 1 and result.output.count("step 3") == 1
    assert result.output.index("step 1") < result.output.index("step 3")
    assert "following the logs of" in result.output
    stubs.assert_done()


def test_logs_expired_link_and_timeout(
    release_project: Any, stubs: Any, http_logs: dict[str, str]
) -> None:
    queue_tail(stubs, [[info(http_logs["base"] + "/expired")]])
    result = invoke(stubs, "logs")
    assert isinstance(result.exception, CtsiteError)
    assert "could not download the log: HTTP 403" in result.exception.message
    # a nanosecond's timeout is over after the first look (a stubbed call takes microseconds):
    # exactly one look, then the error. With 1 ms and two answers queued, how many looks fit
    # depended on the machine's load, and a busy CI left one answer pending
    queue_tail(stubs, [[]])
    result = invoke(stubs, "logs", "--timeout", "1e-9", "--interval", "0.01")
    assert isinstance(result.exception, CtsiteError)
    assert "published its logs within" in result.exception.message
    stubs.assert_done()


def test_logs_missing_environment(release_project: Any, stubs: Any) -> None:
    stubs.eb.add_response("describe_environments", {"Environments": []}, ENV_QUERY)
    result = invoke(stubs, "logs")
    assert isinstance(result.exception, CtsiteError)
    assert f"environment {ENV!r} of application {APP!r} not found" in result.exception.message
    stubs.assert_done()
