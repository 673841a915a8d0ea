"""EB CLI habits through the Typer app: `events [-f] [--since]`, `health [--refresh]`,
`deploy --nohang`, the version lifecycle set by `deploy`, `versions --prune` asking first, and
`logs -f` following until Ctrl-C. Elastic Beanstalk is a real boto3 client under botocore's
Stubber (moto lacks these APIs); IAM and S3 are moto's."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from ctsite.cli import app
from ctsite.deploy.environment.watch import since_time
from ctsite.errors import CtsiteError
from tests.support.ebtest import APP, ENV, REGION, env_description, event, when

BUCKET = "elasticbeanstalk-us-east-2-test"
ENV_QUERY = {"ApplicationName": APP, "EnvironmentNames": [ENV], "IncludeDeleted": False}
EVENTS = {"ApplicationName": APP, "EnvironmentName": ENV}
LIFECYCLE = {
    "VersionLifecycleConfig": {
        "MaxCountRule": {"Enabled": True, "MaxCount": 10, "DeleteSourceFromS3": True},
        "MaxAgeRule": {"Enabled": False, "MaxAgeInDays": 180, "DeleteSourceFromS3": True},
    }
}


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


def test_since_time() -> None:
    now = dt.datetime(2026, 1, 2, 12, tzinfo=dt.UTC)
    assert since_time("30m", now) == now - dt.timedelta(minutes=30)
    assert since_time("1d", now) == now - dt.timedelta(days=1)
    assert since_time("2026-01-02T03:04", now) == dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC)
    assert since_time(None, now) is None
    with pytest.raises(CtsiteError, match="neither an age nor a date"):
        since_time("yesterday", now)


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
    result = invoke(client_factory, "events", "-f", "--interval", "0.01")
    assert result.exit_code == 130  # Ctrl-C
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


def queue_publish(stub: Any, label: str, lifecycle: dict[str, Any] | None) -> None:
    """env Ready → storage bucket → version → lifecycle read (and set) → update."""
    s3 = boto3.client("s3", region_name=REGION)
    if BUCKET not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    stub.add_response("describe_environments", {"Environments": [env_description()]}, ENV_QUERY)
    stub.add_response("create_storage_location", {"S3Bucket": BUCKET}, {})
    stub.add_response(
        "create_application_version",
        {"ApplicationVersion": {"ApplicationName": APP, "VersionLabel": label}},
        {
            "ApplicationName": APP,
            "VersionLabel": label,
            "Description": f"ctsite deploy {label}",
            "SourceBundle": {"S3Bucket": BUCKET, "S3Key": f"{APP}/{label}.zip"},
            "Process": False,
        },
    )
    app_doc: dict[str, Any] = {"ApplicationName": APP}
    if lifecycle is not None:
        app_doc["ResourceLifecycleConfig"] = lifecycle
    stub.add_response(
        "describe_applications", {"Applications": [app_doc]}, {"ApplicationNames": [APP]}
    )


def test_deploy_nohang_sets_the_lifecycle_and_exits(
    eb_stub: Any, client_factory: Any, eb_project: Path
) -> None:
    role = boto3.client("iam", region_name=REGION).create_role(
        RoleName="aws-elasticbeanstalk-service-role", AssumeRolePolicyDocument="{}"
    )["Role"]["Arn"]
    queue_publish(eb_stub, "v7", lifecycle=None)
    eb_stub.add_response(
        "update_application_resource_lifecycle",
        {"ApplicationName": APP, "ResourceLifecycleConfig": {**LIFECYCLE, "ServiceRole": role}},
        {"ApplicationName": APP, "ResourceLifecycleConfig": {**LIFECYCLE, "ServiceRole": role}},
    )
    eb_stub.add_response(
        "update_environment",
        env_description("Updating", "Grey", "v-old", DateUpdated=when(100)),
        {"ApplicationName": APP, "EnvironmentName": ENV, "VersionLabel": "v7"},
    )
    result = invoke(client_factory, "deploy", "--label", "v7", "--nohang")
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert "Elastic Beanstalk keeps the newest 10 versions" in result.output
    assert "started deploying v7 to Contacttracingsite-env (now Updating)" in result.output
    assert "ctsite events -f" in result.output


def test_deploy_keeps_a_matching_lifecycle_and_warns_when_it_cannot_set_one(
    eb_stub: Any, client_factory: Any, eb_project: Path
) -> None:
    queue_publish(eb_stub, "v8", lifecycle={**LIFECYCLE, "ServiceRole": "arn:aws:iam::1:role/r"})
    eb_stub.add_response(
        "update_environment",
        env_description("Updating", "Grey", "v-old", DateUpdated=when(100)),
        {"ApplicationName": APP, "EnvironmentName": ENV, "VersionLabel": "v8"},
    )
    result = invoke(client_factory, "deploy", "--label", "v8", "--nohang")
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert "version lifecycle already keeps 10" in result.output
    # no lifecycle yet and no service role in IAM: a warning, the deployment goes on
    queue_publish(eb_stub, "v9", lifecycle=None)
    eb_stub.add_response(
        "update_environment",
        env_description("Updating", "Grey", "v-old", DateUpdated=when(100)),
        {"ApplicationName": APP, "EnvironmentName": ENV, "VersionLabel": "v9"},
    )
    result = invoke(client_factory, "deploy", "--label", "v9", "--nohang")
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert "could not set the application's version lifecycle" in result.output
    assert "aws-elasticbeanstalk-service-role" in result.output


def queue_versions(stub: Any) -> None:
    stub.add_response(
        "describe_environments",
        {"Environments": [env_description(version="v4")]},
        {"ApplicationName": APP, "IncludeDeleted": False},
    )
    versions = [
        {"ApplicationName": APP, "VersionLabel": f"v{i}", "DateCreated": when(i)} for i in (4, 3, 2)
    ]
    stub.add_response(
        "describe_application_versions", {"ApplicationVersions": versions}, {"ApplicationName": APP}
    )


def test_versions_prune_asks_or_needs_yes(
    eb_stub: Any, client_factory: Any, eb_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue_versions(eb_stub)
    result = invoke(client_factory, "versions", "--prune", "--keep", "2")
    assert result.exit_code == 1
    assert isinstance(result.exception, CtsiteError)
    assert "pass --yes" in str(result.exception.hint)
    # CTSITE_YES=1 answers for --yes
    queue_versions(eb_stub)
    eb_stub.add_response(
        "delete_application_version",
        {},
        {"ApplicationName": APP, "VersionLabel": "v2", "DeleteSourceBundle": True},
    )
    monkeypatch.setenv("CTSITE_YES", "1")
    result = invoke(client_factory, "versions", "--prune", "--keep", "2")
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert "deleted v2" in result.output


def test_wait_until_ready_uses_the_waiter_and_times_out(eb_stub: Any, eb_project: Path) -> None:
    from ctsite.aws.beanstalk import Beanstalk

    eb = Beanstalk(eb_stub.client, None, APP, ENV)
    for status in ("Updating", "Ready"):
        eb_stub.add_response(
            "describe_environments", {"Environments": [env_description(status)]}, ENV_QUERY
        )
    assert eb.wait_until_ready(1, 0.01)["Status"] == "Ready"
    for _ in range(2):
        eb_stub.add_response(
            "describe_environments", {"Environments": [env_description("Updating")]}, ENV_QUERY
        )
    with pytest.raises(CtsiteError, match=r"is still Updating after 0\.02 s"):
        eb.wait_until_ready(0.02, 0.01)
