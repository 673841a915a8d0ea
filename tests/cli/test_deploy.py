"""`ctsite deploy` end to end through the Typer app: health wait, rollback, dry run, --nohang and
the version lifecycle it sets.

Clients are injected through click's context object (`obj={"aws_client": factory}`): the
Elastic Beanstalk client is a real boto3 client under botocore's Stubber, everything else
(S3, Transfer, ECR) a real client talking to the moto server.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from ctsite.cli import app
from ctsite.errors import CtsiteError
from tests.support.cli import cli_env, run_ctsite
from tests.support.ebtest import (
    APP,
    ENV,
    REGION,
    application_version,
    env_description,
    event,
    when,
)

BUCKET = "elasticbeanstalk-us-east-2-test"
ENV_QUERY = {"ApplicationName": APP, "EnvironmentNames": [ENV], "IncludeDeleted": False}
EVENTS_QUERY = {"ApplicationName": APP, "EnvironmentName": ENV}
LIFECYCLE = {
    "VersionLifecycleConfig": {
        "MaxCountRule": {"Enabled": True, "MaxCount": 10, "DeleteSourceFromS3": True},
        "MaxAgeRule": {"Enabled": False, "MaxAgeInDays": 180, "DeleteSourceFromS3": True},
    }
}


def invoke(factory: Any, *args: str) -> Any:
    return CliRunner().invoke(app, list(args), obj={"aws_client": factory})


def poll(stub: Any, since: dt.datetime, events: list[dict], env: dict[str, Any]) -> None:
    stub.add_response(
        "describe_events",
        {"Events": sorted(events, key=lambda e: e["EventDate"], reverse=True)},
        {**EVENTS_QUERY, "StartTime": since},
    )
    stub.add_response("describe_environments", {"Environments": [env]}, ENV_QUERY)


def queue_new_version(stub: Any, label: str, description: str) -> None:
    """The calls before the health wait: env, storage location, version, update."""
    boto3.client("s3", region_name=REGION).create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    stub.add_response(
        "describe_environments", {"Environments": [env_description(version="v-old")]}, ENV_QUERY
    )
    queue_version(stub, label, description)
    queue_update(stub, label)


def queue_version(stub: Any, label: str, description: str) -> None:
    """The source bundle's bucket, then the application version `label` made from it."""
    stub.add_response("create_storage_location", {"S3Bucket": BUCKET}, {})
    stub.add_response(
        "create_application_version",
        {"ApplicationVersion": {"ApplicationName": APP, "VersionLabel": label}},
        {
            "ApplicationName": APP,
            "VersionLabel": label,
            "Description": description,
            "SourceBundle": {"S3Bucket": BUCKET, "S3Key": f"{APP}/{label}.zip"},
            "Process": False,
        },
    )


def queue_update(stub: Any, label: str) -> None:
    """update_environment to `label`: the environment (on v-old) starts updating."""
    stub.add_response(
        "update_environment",
        env_description("Updating", "Grey", "v-old", DateUpdated=when(100)),
        {"ApplicationName": APP, "EnvironmentName": ENV, "VersionLabel": label},
    )


def test_deploy_streams_events_until_green(
    eb_project: Path, eb_stub: Any, client_factory: Any
) -> None:
    queue_new_version(eb_stub, "v2", "first deploy")
    start = event(101, "updateEnvironment is starting.")
    done = event(160, "Environment update completed successfully.")
    poll(eb_stub, when(95), [start], env_description("Updating", "Grey", "v-old"))
    poll(eb_stub, when(101), [start, done], env_description("Ready", "Green", "v2"))
    result = invoke(
        client_factory, "deploy", "--label", "v2", "-m", "first deploy", "--poll", "0.01"
    )
    assert result.exit_code == 0, result.output + repr(result.exception)
    out = result.output
    assert "mount-efs.sh" in out and "Dockerrun.aws.json" in out
    assert f"s3://{BUCKET}/{APP}/v2.zip" in out
    assert "deploying v2" in out and "(was v-old)" in out
    assert out.count("updateEnvironment is starting.") == 1
    assert "03:06:45 INFO  Environment update completed successfully." in out
    assert "✓ Contacttracingsite-env is Ready, health Green, running v2" in out
    assert "http://ctsite.us-east-2.elasticbeanstalk.com" in out
    key = f"{APP}/v2.zip"
    body = boto3.client("s3", region_name=REGION).get_object(Bucket=BUCKET, Key=key)["Body"]
    assert body.read()[:2] == b"PK"


def test_deploy_ending_red_fails_and_shows_events(
    eb_project: Path, eb_stub: Any, client_factory: Any
) -> None:
    queue_new_version(eb_stub, "v3", "ctsite deploy v3")
    failure = event(130, "Instance deployment failed. For details, see 'eb-engine.log'.", "ERROR")
    poll(
        eb_stub,
        when(95),
        [event(101, "updateEnvironment is starting.")],
        env_description("Updating"),
    )
    poll(eb_stub, when(101), [failure], env_description("Ready", "Red", "v3"))
    result = invoke(client_factory, "deploy", "--label", "v3", "--poll", "0.01")
    assert result.exit_code == 1
    assert isinstance(result.exception, CtsiteError)
    assert "ERROR Instance deployment failed" in result.output
    message = result.exception.message
    assert "deployment of v3 to Contacttracingsite-env failed" in message
    assert "health Red" in message and "Instance deployment failed" in message
    assert "\n" not in message


def test_deploy_times_out(eb_project: Path, eb_stub: Any, client_factory: Any) -> None:
    queue_new_version(eb_stub, "v4", "ctsite deploy v4")
    poll(
        eb_stub,
        when(95),
        [event(101, "updateEnvironment is starting.")],
        env_description("Updating"),
    )
    # A timeout of 6 µs expires during the first poll: exactly one round is made.
    result = invoke(client_factory, "deploy", "--label", "v4", "--timeout", "1e-7", "--poll", "1")
    assert result.exit_code == 1
    assert isinstance(result.exception, CtsiteError)
    assert "timed out after" in result.exception.message
    assert "status Updating" in result.exception.message
    assert "updateEnvironment is starting." in result.output


def test_rollback_redeploys_existing_version(
    eb_stub: Any, client_factory: Any, eb_project: Path
) -> None:
    eb_stub.add_response(
        "describe_environments", {"Environments": [env_description(version="v5")]}, ENV_QUERY
    )
    eb_stub.add_response(
        "describe_application_versions",
        {"ApplicationVersions": [application_version("v4", when(-3600))]},
        {"ApplicationName": APP, "VersionLabels": ["v4"]},
    )
    eb_stub.add_response(
        "update_environment",
        env_description("Updating", "Grey", "v5", DateUpdated=when(100)),
        {"ApplicationName": APP, "EnvironmentName": ENV, "VersionLabel": "v4"},
    )
    poll(eb_stub, when(95), [], env_description("Ready", "Green", "v4"))
    result = invoke(client_factory, "deploy", "--version", "v4", "--poll", "0.01")
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert "source bundle" not in result.output
    assert "deploying v4" in result.output and "(was v5)" in result.output


def test_rollback_to_unknown_version(eb_stub: Any, client_factory: Any, eb_project: Path) -> None:
    eb_stub.add_response("describe_environments", {"Environments": [env_description()]}, ENV_QUERY)
    eb_stub.add_response(
        "describe_application_versions",
        {"ApplicationVersions": []},
        {"ApplicationName": APP, "VersionLabels": ["nope"]},
    )
    result = invoke(client_factory, "deploy", "--version", "nope")
    assert result.exit_code == 1
    assert "application version 'nope' not found" in result.exception.message
    assert "ctsite versions" in result.exception.hint


def test_deploy_refuses_busy_environment(
    eb_stub: Any, client_factory: Any, eb_project: Path
) -> None:
    busy = env_description("Updating", "Grey", "v1")
    eb_stub.add_response("describe_environments", {"Environments": [busy]}, ENV_QUERY)
    result = invoke(client_factory, "deploy", "--label", "v2")
    assert result.exit_code == 1
    assert "is Updating, not Ready" in result.exception.message


def test_bad_options_are_clear(eb_project: Path) -> None:
    for args, message in [
        (["--label", "v 1/x"], "invalid version label 'v 1/x'"),
        (["--label", "a", "--version", "b"], "--label and --version exclude each other"),
        (["--timeout", "0"], "--timeout and --poll must be positive"),
    ]:
        result = CliRunner().invoke(app, ["deploy", "--dry-run", *args])
        assert result.exit_code == 1
        assert result.exception.message == message


def test_dry_run_calls_no_aws(eb_project: Path, tmp_path: Path) -> None:
    """The dry run needs neither credentials nor a reachable endpoint."""
    env = cli_env(
        without=("AWS_", "CTSITE_"),
        AWS_ENDPOINT_URL="http://127.0.0.1:9",  # discard port: any call would fail
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        COLUMNS="200",
    )
    result = run_ctsite(
        "deploy", "--dry-run", "--label", "v9", "-m", "hello", cwd=eb_project, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for name in (
        ".ebextensions/01-options.config (rendered)",
        ".platform/hooks/predeploy/mount-efs.sh",
    ):
        assert name in out
    assert "755" in out
    assert "README.md" not in out and "app.py" not in out
    assert "create application version v9 ('hello')" in out
    assert "update environment Contacttracingsite-env (Contacttracingsite, us-east-2) to v9" in out
    assert "wait up to 30 min" in out


def test_deploy_without_efs_id_is_one_line(tmp_path: Path) -> None:
    from tests.support.ebtest import make_project

    root = make_project(tmp_path / "p", efs_id="")
    result = run_ctsite(
        "deploy", "--dry-run", cwd=root, env=cli_env(without=("CTSITE_",)), timeout=120
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: .ebextensions/01-options.config needs EFS_FILE_SYSTEM_ID")
    assert "CTSITE_EFS_FILE_SYSTEM_ID" in result.stderr


def queue_publish(stub: Any, label: str, lifecycle: dict[str, Any] | None) -> None:
    """env Ready → storage bucket → version → lifecycle read (and set) → update."""
    s3 = boto3.client("s3", region_name=REGION)
    if BUCKET not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    stub.add_response("describe_environments", {"Environments": [env_description()]}, ENV_QUERY)
    queue_version(stub, label, f"ctsite deploy {label}")
    app_doc: dict[str, Any] = {"ApplicationName": APP}
    if lifecycle is not None:
        app_doc["ResourceLifecycleConfig"] = lifecycle
    stub.add_response(
        "describe_applications", {"Applications": [app_doc]}, {"ApplicationNames": [APP]}
    )


@pytest.fixture
def deploy_nohang(eb_stub: Any, client_factory: Any) -> Callable[[str], str]:
    """`ctsite deploy --label LABEL --nohang` after the calls already queued (`queue_publish`
    …): the environment starts updating; returns the output of the successful run."""

    def run(label: str) -> str:
        queue_update(eb_stub, label)
        result = invoke(client_factory, "deploy", "--label", label, "--nohang")
        assert result.exit_code == 0, result.output + repr(result.exception)
        return result.output

    return run


def test_deploy_nohang_sets_the_lifecycle_and_exits(
    eb_stub: Any, deploy_nohang: Callable[[str], str], eb_project: Path
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
    output = deploy_nohang("v7")
    assert "Elastic Beanstalk keeps the newest 10 versions" in output
    assert "started deploying v7 to Contacttracingsite-env (now Updating)" in output
    assert "ctsite events -f" in output


def test_deploy_keeps_a_matching_lifecycle_and_warns_when_it_cannot_set_one(
    eb_stub: Any, deploy_nohang: Callable[[str], str], eb_project: Path
) -> None:
    queue_publish(eb_stub, "v8", lifecycle={**LIFECYCLE, "ServiceRole": "arn:aws:iam::1:role/r"})
    output = deploy_nohang("v8")
    assert "version lifecycle already keeps 10" in output
    # no lifecycle yet and no service role in IAM: a warning, the deployment goes on
    queue_publish(eb_stub, "v9", lifecycle=None)
    output = deploy_nohang("v9")
    assert "could not set the application's version lifecycle" in output
    assert "aws-elasticbeanstalk-service-role" in output


@pytest.mark.parametrize("command", [["deploy", "--dry-run"], ["status"], ["logs"]])
@pytest.mark.parametrize("name", ["static", "registry"])
def test_env_static_or_registry_is_not_an_eb_environment(
    tmp_path: Path, command: list[str], name: str
) -> None:
    """`--env static` on an Elastic Beanstalk command named a stack, not an environment: it used
    to go on as an EB environment called "static" (deploy --dry-run planned a deployment into
    it). One line says which command handles that name, exit 2, before anything is read."""
    result = run_ctsite(*command, "--env", name, cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    text = " ".join((result.stdout + result.stderr).split())
    assert "Traceback" not in text
    assert f"--env {name} names the" in text
    assert ("ctsite publish-site" if name == "static" else "provision") in text
