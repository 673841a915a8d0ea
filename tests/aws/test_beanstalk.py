"""The Beanstalk library against real clients: S3 on moto, Elastic Beanstalk calls moto lacks
through botocore's Stubber (requests and responses validated against the service model)."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path
from typing import Any

import boto3
import pytest

from ctsite.aws import ecr
from ctsite.aws.beanstalk import (
    Beanstalk,
    judge,
    option_values,
    regions,
    solution_stacks,
    version_label,
)
from ctsite.deploy.bundle import build_bundle
from ctsite.deploy.deploy import git_commit
from ctsite.errors import CtsiteError
from tests.support.ebtest import (
    APP,
    EFS_ID,
    ENV,
    REGION,
    application_version,
    env_description,
    event,
    when,
)
from tests.support.factories import serving

BUCKET = "elasticbeanstalk-us-east-2-test"
ENV_QUERY = {"ApplicationName": APP, "EnvironmentNames": [ENV], "IncludeDeleted": False}
EVENTS_QUERY = {"ApplicationName": APP, "EnvironmentName": ENV}


class FakeClock:
    """A monotonic clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def poll(stub: Any, since: dt.datetime, events: list[dict], env: dict[str, Any]) -> None:
    """Queue one poll round: describe_events (newest first, as EB returns them), then the env."""
    stub.add_response(
        "describe_events",
        {"Events": sorted(events, key=lambda e: e["EventDate"], reverse=True)},
        {**EVENTS_QUERY, "StartTime": since},
    )
    stub.add_response("describe_environments", {"Environments": [env]}, ENV_QUERY)


@pytest.fixture
def beanstalk(client_factory: Any) -> Beanstalk:
    return Beanstalk(client_factory, APP, ENV)


def test_publish_uploads_and_creates_version(
    beanstalk: Beanstalk, eb_stub: Any, eb_project: Path, tmp_path: Path
) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    bundle = build_bundle(eb_project, tmp_path / "b.zip", EFS_ID, "/efs_data")
    eb_stub.add_response("create_storage_location", {"S3Bucket": BUCKET}, {})
    eb_stub.add_response(
        "create_application_version",
        {"ApplicationVersion": application_version("v1-abc", Description="first")},
        {
            "ApplicationName": APP,
            "VersionLabel": "v1-abc",
            "Description": "first",
            "SourceBundle": {"S3Bucket": BUCKET, "S3Key": f"{APP}/v1-abc.zip"},
            "Process": False,
        },
    )
    url = beanstalk.publish(bundle.path, "v1-abc", "first")
    assert url == f"s3://{BUCKET}/{APP}/v1-abc.zip"
    stored = s3.get_object(Bucket=BUCKET, Key=f"{APP}/v1-abc.zip")["Body"].read()
    assert stored == bundle.path.read_bytes()


def test_upload_to_missing_bucket_is_one_clear_error(beanstalk: Beanstalk, tmp_path: Path) -> None:
    path = tmp_path / "b.zip"
    path.write_bytes(b"zip")
    with pytest.raises(CtsiteError) as info:
        beanstalk.upload(path, "no-such-bucket", "v1")
    assert info.value.message.startswith("could not upload the source bundle to s3://no-such")
    assert "NoSuchBucket" in info.value.message
    assert "\n" not in info.value.message


def test_update_environment_request(beanstalk: Beanstalk, eb_stub: Any) -> None:
    eb_stub.add_response(
        "update_environment",
        env_description(status="Updating", version="v2"),
        {"ApplicationName": APP, "EnvironmentName": ENV, "VersionLabel": "v2"},
    )
    assert beanstalk.update("v2")["Status"] == "Updating"


def test_wait_streams_events_once_and_succeeds(beanstalk: Beanstalk, eb_stub: Any) -> None:
    start = when(0)
    first = event(1, "updateEnvironment is starting.")
    second = event(20, "Deploying new version to instance(s).")
    third = event(40, "Environment update completed successfully.")
    poll(eb_stub, start, [first], env_description("Updating", "Grey", "v-old"))
    poll(eb_stub, when(1), [first, second], env_description("Updating", "Grey", "v2"))
    poll(eb_stub, when(20), [second, third], env_description("Ready", "Green", "v2"))
    clock = FakeClock()
    seen: list[str] = []
    outcome = beanstalk.wait_until_healthy(
        "v2",
        start,
        600,
        3,
        on_event=lambda e: seen.append(e["Message"]),
        clock=clock,
        sleep=clock.sleep,
    )
    assert seen == [first["Message"], second["Message"], third["Message"]]
    assert outcome.environment["Health"] == "Green"
    assert clock.sleeps == [3, 3]


def test_wait_accepts_enhanced_health_ok(beanstalk: Beanstalk, eb_stub: Any) -> None:
    poll(eb_stub, when(0), [], env_description("Ready", "Yellow", "v2", HealthStatus="Ok"))
    clock = FakeClock()
    outcome = beanstalk.wait_until_healthy("v2", when(0), 60, clock=clock, sleep=clock.sleep)
    assert outcome.environment["HealthStatus"] == "Ok"


def test_wait_fails_on_red_with_the_last_errors(beanstalk: Beanstalk, eb_stub: Any) -> None:
    failed = event(30, "Instance deployment failed. For details, see 'eb-engine.log'.", "ERROR")
    poll(
        eb_stub,
        when(0),
        [event(1, "updateEnvironment is starting.")],
        env_description("Updating", "Grey"),
    )
    poll(
        eb_stub,
        when(1),
        [failed, event(31, "Unsuccessful command execution on instance id(s).", "ERROR")],
        env_description("Ready", "Red", "v2", HealthStatus="Severe"),
    )
    clock = FakeClock()
    seen: list[dict] = []
    with pytest.raises(CtsiteError) as info:
        beanstalk.wait_until_healthy("v2", when(0), 600, 5, seen.append, clock, clock.sleep)
    message = info.value.message
    assert "deployment of v2 to Contacttracingsite-env failed" in message
    assert "Ready with health Red/Severe" in message
    assert "Instance deployment failed" in message and "Unsuccessful command" in message
    assert "ctsite deploy --version" in (info.value.hint or "")
    assert len(seen) == 3


def test_wait_fails_when_eb_kept_the_old_version(beanstalk: Beanstalk, eb_stub: Any) -> None:
    poll(
        eb_stub,
        when(0),
        [event(9, "Failed to deploy application.", "ERROR")],
        env_description("Ready", "Green", "v-old"),
    )
    clock = FakeClock()
    with pytest.raises(CtsiteError, match="stayed on version v-old"):
        beanstalk.wait_until_healthy("v2", when(0), 600, clock=clock, sleep=clock.sleep)


def test_wait_times_out(beanstalk: Beanstalk, eb_stub: Any) -> None:
    warn = event(5, "Environment health has transitioned from Ok to Info.", "WARN")
    poll(eb_stub, when(0), [warn], env_description("Updating", "Grey", "v-old"))
    for _ in range(3):
        poll(eb_stub, when(5), [warn], env_description("Updating", "Grey", "v-old"))
    clock = FakeClock()
    with pytest.raises(CtsiteError) as info:
        beanstalk.wait_until_healthy("v2", when(0), 30, 10, clock=clock, sleep=clock.sleep)
    assert "timed out after 0.5 min" in info.value.message
    assert "status Updating, health Grey" in info.value.message
    assert "--timeout" in (info.value.hint or "")
    assert clock.sleeps == [10, 10, 10]


def test_events_follow_pagination(beanstalk: Beanstalk, eb_stub: Any) -> None:
    eb_stub.add_response(
        "describe_events",
        {"Events": [event(3, "c"), event(2, "b")], "NextToken": "page2"},
        {**EVENTS_QUERY, "StartTime": when(0)},
    )
    eb_stub.add_response(
        "describe_events",
        {"Events": [event(1, "a")]},
        {**EVENTS_QUERY, "StartTime": when(0), "NextToken": "page2"},
    )
    assert [e["Message"] for e in beanstalk.events(since=when(0))] == ["a", "b", "c"]


def test_missing_environment_is_clear(beanstalk: Beanstalk, eb_stub: Any) -> None:
    other = env_description(EnvironmentName="Other-env")
    eb_stub.add_response("describe_environments", {"Environments": [other]}, ENV_QUERY)
    with pytest.raises(CtsiteError, match="environment 'Contacttracingsite-env' of application"):
        beanstalk.environment()


def test_aws_error_is_one_line(beanstalk: Beanstalk, eb_stub: Any) -> None:
    eb_stub.add_client_error(
        "create_application_version",
        service_error_code="TooManyApplicationVersionsException",
        service_message="You cannot have more than 1000 application versions.",
        http_status_code=400,
    )
    with pytest.raises(CtsiteError) as info:
        beanstalk.create_version("v3", "d", BUCKET, "k.zip")
    assert info.value.message == (
        "could not create the application version 'v3': AWS TooManyApplicationVersionsException:"
        " You cannot have more than 1000 application versions."
    )
    assert info.value.hint


def _version(label: str, day: int) -> dict[str, Any]:
    return application_version(
        label, dt.datetime(2026, 1, day, tzinfo=dt.UTC), Status="UNPROCESSED"
    )


def test_prune_keeps_newest_and_the_deployed_one(beanstalk: Beanstalk, eb_stub: Any) -> None:
    eb_stub.add_response(
        "describe_environments",
        {"Environments": [env_description(version="v1")]},
        {"ApplicationName": APP, "IncludeDeleted": False},
    )
    eb_stub.add_response(
        "describe_application_versions",
        {"ApplicationVersions": [_version("v3", 3), _version("v5", 5)], "NextToken": "n"},
        {"ApplicationName": APP},
    )
    eb_stub.add_response(
        "describe_application_versions",
        {"ApplicationVersions": [_version("v1", 1), _version("v4", 4), _version("v2", 2)]},
        {"ApplicationName": APP, "NextToken": "n"},
    )
    assert beanstalk.prune_plan(keep=2) == ["v3", "v2"]
    eb_stub.add_response(
        "delete_application_version",
        {},
        {"ApplicationName": APP, "VersionLabel": "v3", "DeleteSourceBundle": True},
    )
    beanstalk.delete_version("v3")


def test_prune_needs_keep_at_least_one(beanstalk: Beanstalk) -> None:
    with pytest.raises(CtsiteError, match="--keep must be at least 1"):
        beanstalk.prune_plan(keep=0)


@pytest.mark.parametrize(
    ("env", "errors", "verdict"),
    [
        (env_description("Updating", "Grey", "v2"), False, "waiting"),
        (env_description("Launching", "Red", "v2"), False, "waiting"),
        (env_description("Ready", "Yellow", "v2"), False, "waiting"),
        (env_description("Ready", "Green", "v-old"), False, "waiting"),
        (
            env_description("Ready", "Green", "v-old"),
            True,
            "the environment stayed on version v-old",
        ),
        (env_description("Ready", "Green", "v2"), False, "healthy"),
        (env_description("Ready", "Grey", "v2", HealthStatus="Ok"), False, "healthy"),
        (
            env_description("Ready", "Red", "v2"),
            False,
            "the environment is Ready with health Red/Degraded",
        ),
        (env_description("Terminated", "Grey", "v2"), False, "the environment is Terminated"),
    ],
)
def test_judge(env: dict[str, Any], errors: bool, verdict: str) -> None:
    history = [event(1, "boom", "ERROR")] if errors else []
    assert judge(env, "v2", history) == verdict


def test_version_label_format() -> None:
    now = dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
    assert version_label("0.1.0", "ab12cd34-dirty", now) == "v0.1.0-ab12cd34-dirty-20260304-050607"
    assert version_label("1 0/x", "nogit", now) == "v1-0-x-nogit-20260304-050607"


def test_git_commit(tmp_path: Path) -> None:
    assert git_commit(tmp_path) == "nogit"
    run = lambda *a: subprocess.run(["git", *a], cwd=tmp_path, check=True, capture_output=True)  # noqa: E731
    run("init", "-q")
    (tmp_path / "f").write_text("1")
    run("add", "f")
    run("-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "-m", "c")
    head = subprocess.run(
        ["git", "rev-parse", "--short=8", "HEAD"], cwd=tmp_path, capture_output=True, text=True
    ).stdout.strip()
    assert git_commit(tmp_path) == head
    (tmp_path / "f").write_text("2")
    assert git_commit(tmp_path) == f"{head}-dirty"


def test_list_images_from_private_ecr(aws_env: str) -> None:
    """ECR (moto) lists the tags newest first; the repository comes from image_repository."""
    import json

    registry = boto3.client("ecr", region_name=REGION)
    registry.create_repository(repositoryName="ct-site")
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": 1,
            "digest": "sha256:" + "1" * 64,
        },
        "layers": [],
    }
    for tag in ("1.0.0", "1.1.0"):
        manifest["config"]["digest"] = "sha256:" + (tag[2] * 64)
        registry.put_image(
            repositoryName="ct-site", imageManifest=json.dumps(manifest), imageTag=tag
        )
    repo = ecr.repo_for("123456789012.dkr.ecr.us-east-2.amazonaws.com/ct-site")
    found = ecr.list_images(repo, lambda s, region: boto3.client(s, region_name=region))
    assert sorted(t for image in found for t in image.tags) == ["1.0.0", "1.1.0"]
    with pytest.raises(CtsiteError, match="not an ECR repository"):
        ecr.repo_for("ghcr.io/lab/ct-site")


def test_wait_until_ready_uses_the_waiter_and_times_out(eb_stub: Any, eb_project: Path) -> None:
    from ctsite.aws.beanstalk import Beanstalk

    eb = Beanstalk(serving(eb_stub.client), APP, ENV)
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


STAGING = "Contacttracingsite-staging"


def test_environments_by_name_and_the_cname_swap(beanstalk: Beanstalk, eb_stub: Any) -> None:
    staging = env_description(EnvironmentName=STAGING, CNAME="ct-staging.example")
    eb_stub.add_response(
        "describe_environments",
        {"Environments": [env_description(), staging]},
        {"ApplicationName": APP, "EnvironmentNames": [ENV, STAGING], "IncludeDeleted": False},
    )
    found = beanstalk.environments([ENV, STAGING])
    assert sorted(found) == [ENV, STAGING]
    assert found[STAGING]["CNAME"] == "ct-staging.example"
    eb_stub.add_response(
        "swap_environment_cnames",
        {},
        {"SourceEnvironmentName": ENV, "DestinationEnvironmentName": STAGING},
    )
    beanstalk.swap_cnames(STAGING)
    eb_stub.add_client_error(
        "swap_environment_cnames", "InvalidParameterValue", "Environment is not Ready", 400
    )
    with pytest.raises(CtsiteError, match=f"could not swap the URLs of {ENV} and {STAGING}"):
        beanstalk.swap_cnames(STAGING)


def test_configuration_settings_and_their_option_values(beanstalk: Beanstalk, eb_stub: Any) -> None:
    query = {"ApplicationName": APP, "EnvironmentName": ENV}
    options = [
        {"Namespace": "aws:ec2:instances", "OptionName": "InstanceTypes", "Value": "t3.small"},
        {"Namespace": "aws:elasticbeanstalk:sns:topics", "OptionName": "Notification Endpoint"},
    ]
    config = {"ApplicationName": APP, "EnvironmentName": ENV, "OptionSettings": options}
    eb_stub.add_response(
        "describe_configuration_settings", {"ConfigurationSettings": [config]}, query
    )
    (found,) = beanstalk.configuration_settings()
    assert option_values(found) == {
        ("aws:ec2:instances", "InstanceTypes"): "t3.small",
        ("aws:elasticbeanstalk:sns:topics", "Notification Endpoint"): "",
    }
    eb_stub.add_client_error(
        "describe_configuration_settings",
        "InvalidParameterValue",
        f"No Environment found for EnvironmentName = '{ENV}'.",
        400,
        expected_params=query,
    )
    with pytest.raises(CtsiteError) as caught:
        beanstalk.configuration_settings()
    assert caught.value.message == (
        f"Elastic Beanstalk environment {ENV!r} of application {APP!r} not found"
    )
    eb_stub.add_client_error(
        "describe_configuration_settings", "Throttling", "Rate exceeded", 400, expected_params=query
    )
    with pytest.raises(CtsiteError, match=f"could not read the option settings of {ENV}"):
        beanstalk.configuration_settings()


def test_solution_stacks_and_regions(client_factory: Any, eb_stub: Any) -> None:
    names = [
        "64bit Amazon Linux 2023 v4.6.0 running Docker",
        "64bit Amazon Linux 2 v3.9.0 running Docker",
    ]
    eb_stub.add_response("list_available_solution_stacks", {"SolutionStacks": names}, {})
    assert solution_stacks(client_factory) == names
    assert {"us-east-1", "us-east-2", "eu-west-1"} <= set(regions())


def test_application_reads_on_moto(moto_clients: Any) -> None:
    """describe_applications answered by moto: no application, then one without a version
    lifecycle."""
    eb = Beanstalk(moto_clients, APP, ENV)
    assert eb.application_exists() is False
    assert eb.version_lifecycle() == {}
    moto_clients("elasticbeanstalk").create_application(ApplicationName=APP)
    assert eb.application_exists() is True
    assert Beanstalk(moto_clients, "Other", ENV).application_exists() is False
