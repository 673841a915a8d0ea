"""EB CLI habits through the Typer app: `events [-f] [--since]` and `health [--refresh]`
following until Ctrl-C. Elastic Beanstalk is a real boto3 client under botocore's Stubber
(moto lacks these APIs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from ctsite.cli import app
from tests.support.cli import invoke_until_stopped
from tests.support.ebtest import APP, ENV, event, when

ENV_QUERY = {"ApplicationName": APP, "EnvironmentNames": [ENV], "IncludeDeleted": False}
EVENTS = {"ApplicationName": APP, "EnvironmentName": ENV}


def invoke(factory: Any, *args: str) -> Any:
    return CliRunner().invoke(app, list(args), obj={"aws_client": factory})


def newest_first(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Events": sorted(events, key=lambda e: e["EventDate"], reverse=True)}


def interrupt_on(stub: Any, operation: str, after: int) -> None:
    """Ctrl-C (KeyboardInterrupt) when `operation` is called for the (after+1)-th time."""
    calls = {"n": 0}

    def hook(**_: Any) -> None:
        calls["n"] += 1
        if calls["n"] > after:
            raise KeyboardInterrupt

    service = stub.client.meta.service_model.service_id.hyphenize()
    stub.client.meta.events.register(f"provide-client-params.{service}.{operation}", hook)


def test_events_recent_and_since(eb_stub: Any, client_factory: Any, eb_project: Path) -> None:
    found = [event(1, "createEnvironment is starting."), event(9, "Environment health OK.")]
    eb_stub.add_response("describe_events", newest_first(found), EVENTS)
    result = invoke(client_factory, "events", "-n", "5")
    assert result.exit_code == 0, result.output + repr(result.exception)
    lines = result.output.splitlines()
    assert lines[0].endswith("INFO  createEnvironment is starting.")
    assert lines[1].endswith("INFO  Environment health OK.")
    eb_stub.add_response(
        "describe_events", newest_first(found[1:]), {**EVENTS, "StartTime": when(5)}
    )
    result = invoke(client_factory, "events", "--since", when(5).isoformat(), "--json")
    assert result.exit_code == 0, result.output
    assert '"Message": "Environment health OK."' in result.output


def test_events_follow_until_ctrl_c(eb_stub: Any, client_factory: Any, eb_project: Path) -> None:
    first = event(1, "updateEnvironment is starting.", "INFO")
    second = event(30, "Instance deployment failed.", "ERROR")
    eb_stub.add_response("describe_events", newest_first([first]), EVENTS)
    eb_stub.add_response("describe_events", newest_first([first]), {**EVENTS, "StartTime": when(1)})
    eb_stub.add_response(
        "describe_events", newest_first([first, second]), {**EVENTS, "StartTime": when(1)}
    )
    eb_stub.add_response(
        "describe_events", newest_first([second]), {**EVENTS, "StartTime": when(30)}
    )
    interrupt_on(eb_stub, "DescribeEvents", after=4)
    result = invoke_until_stopped(
        ["events", "-f", "--interval", "0.01"], {"aws_client": client_factory}
    )
    assert result.exit_code == 130, result.output  # Ctrl-C
    assert "error: stopped by Ctrl-C (SIGINT)" in result.output
    assert result.output.count("updateEnvironment is starting.") == 1
    assert result.output.count("Instance deployment failed.") == 1


def health_response(color: str = "Green", status: str = "Ok") -> dict[str, Any]:
    return {
        "EnvironmentName": ENV,
        "HealthStatus": status,
        "Status": "Ready",
        "Color": color,
        "Causes": [] if status == "Ok" else ["50.0 % of the requests are failing with HTTP 5xx."],
        "InstancesHealth": {"Ok": 1, "Degraded": 0 if status == "Ok" else 1},
        "RefreshedAt": when(60),
    }


def instances_response() -> dict[str, Any]:
    return {
        "InstanceHealthList": [
            {
                "InstanceId": "i-0123456789abcdef0",
                "HealthStatus": "Ok",
                "Color": "Green",
                "Causes": [],
                "LaunchedAt": when(0),
                "AvailabilityZone": "us-east-2a",
                "InstanceType": "t3.small",
                "Deployment": {"VersionLabel": "v2", "DeploymentId": 3, "Status": "Deployed"},
            }
        ],
        "RefreshedAt": when(60),
    }


def test_health_and_refresh(eb_stub: Any, client_factory: Any, eb_project: Path) -> None:
    query = {"EnvironmentName": ENV, "AttributeNames": ["All"]}
    eb_stub.add_response("describe_environment_health", health_response(), query)
    eb_stub.add_response("describe_instances_health", instances_response(), query)
    result = invoke(client_factory, "health")
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert f"{ENV} Ready, health Ok (Green)" in result.output
    assert "i-01234" in result.output and "us-east-2a" in result.output
    for response in (health_response(), health_response("Red", "Degraded")):
        eb_stub.add_response("describe_environment_health", response, query)
        eb_stub.add_response("describe_instances_health", instances_response(), query)
    result = invoke(client_factory, "health", "--refresh", "--interval", "0.01", "--count", "1")
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert "health Ok (Green)" in result.output
    assert "health Degraded (Red): 50.0 % of the requests are failing" in result.output
    eb_stub.add_response("describe_environment_health", health_response(), query)
    eb_stub.add_response("describe_instances_health", instances_response(), query)
    result = invoke(client_factory, "-q", "health", "--json")
    assert result.exit_code == 0
    assert '"instances_by_state"' in result.output
