"""The deployment workflow called directly (`ctsite.deploy.deploy.deploy`): the plan of a dry
run needs no client, a bundle check refuses before any upload, and a deployment publishes the
bundle to moto's S3 and follows Elastic Beanstalk (a real boto3 client under botocore's Stubber)
until it is healthy, reporting its events. The CLI's rendering is tests/cli/test_deploy.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

from ctsite.config import Settings, load_settings
from ctsite.deploy import release_state
from ctsite.deploy.bundle import Bundle
from ctsite.deploy.deploy import deploy
from ctsite.deploy.release import bundle_sha256
from ctsite.errors import CtsiteError
from tests.cli.test_deploy import BUCKET, LIFECYCLE, poll, queue_publish
from tests.support.ebtest import APP, ENV, REGION, env_description, event, when
from tests.support.reporting import RecordingReporter

KEPT = {**LIFECYCLE, "ServiceRole": "arn:aws:iam::123456789012:role/eb-service"}


def settings(project: Path) -> Settings:
    return load_settings(root=project)


def test_dry_run_plans_with_the_bundle_and_no_client(eb_project: Path) -> None:
    result = deploy(settings(eb_project), None, dry_run=True, label="v9", message="hello")
    assert (result.label, result.dry_run, result.new_version) == ("v9", True, True)
    assert result.environment is None and result.bundle_url == ""
    assert "create application version v9 ('hello')" in result.steps[1]
    assert result.bundle is not None
    names = {entry.name for entry in result.bundle.entries}
    assert {".ebextensions/01-options.config", "Dockerrun.aws.json"} <= names
    assert "README.md" not in names


def test_options_and_the_bundle_check_refuse_before_any_aws_call(eb_project: Path) -> None:
    s = settings(eb_project)
    with pytest.raises(CtsiteError, match="--timeout and --poll must be positive"):
        deploy(s, None, timeout_minutes=0)
    with pytest.raises(CtsiteError, match="--label and --version exclude each other"):
        deploy(s, None, label="v1", version="v0")
    seen: list[Bundle] = []

    def refuse(bundle: Bundle) -> None:
        seen.append(bundle)
        raise CtsiteError("not the pushed image")

    with pytest.raises(CtsiteError, match="not the pushed image"):
        deploy(s, None, label="v9", check_bundle=refuse)  # no client: nothing was reachable
    assert [b.path.name for b in seen] == ["v9.zip"]


def test_deploy_publishes_then_follows_the_events_until_healthy(
    eb_project: Path, eb_stub: Any, client_factory: Any
) -> None:
    queue_publish(eb_stub, "v2", lifecycle=KEPT)
    eb_stub.add_response(
        "update_environment",
        env_description("Updating", "Grey", "v-old", DateUpdated=when(100)),
        {"ApplicationName": APP, "EnvironmentName": ENV, "VersionLabel": "v2"},
    )
    start = event(101, "updateEnvironment is starting.")
    done = event(160, "Environment update completed successfully.")
    poll(eb_stub, when(95), [start], env_description("Updating", "Grey", "v-old"))
    poll(eb_stub, when(101), [start, done], env_description("Ready", "Green", "v2"))
    reporter = RecordingReporter()
    result = deploy(settings(eb_project), client_factory, label="v2", poll=0.01, reporter=reporter)
    assert result.bundle_url == f"s3://{BUCKET}/{APP}/v2.zip"
    assert (result.previous_version, result.waited) == ("v-old", True)
    assert "already keeps 10" in result.lifecycle
    final = result.environment
    assert final is not None
    assert (final.status, final.health, final.version) == ("Ready", "Green", "v2")
    assert [e["Message"] for e in reporter.events] == [start["Message"], done["Message"]]
    body = boto3.client("s3", region_name=REGION).get_object(Bucket=BUCKET, Key=f"{APP}/v2.zip")
    assert body["Body"].read()[:2] == b"PK"  # the bundle as uploaded
    # what `release` remembers: a later `release --dry-run` sees this deployment (issue 24)
    deployed = release_state.read_state(eb_project)["deploy"]
    assert deployed == {"label": "v2", "bundle_sha256": bundle_sha256(settings(eb_project)),
                        "digest": None}  # fmt: skip


def test_without_waiting_it_returns_once_the_update_started(
    eb_project: Path, eb_stub: Any, client_factory: Any
) -> None:
    queue_publish(eb_stub, "v3", lifecycle=KEPT)
    eb_stub.add_response(
        "update_environment",
        env_description("Updating", "Grey", "v-old", DateUpdated=when(100)),
        {"ApplicationName": APP, "EnvironmentName": ENV, "VersionLabel": "v3"},
    )
    reporter = RecordingReporter()
    result = deploy(settings(eb_project), client_factory, label="v3", wait=False, reporter=reporter)
    assert not result.waited and result.environment is not None
    assert result.environment.status == "Updating"
    assert reporter.infos[-1] == f"started deploying v3 to {ENV} ({APP}, {REGION}) (was v-old)"
    assert reporter.events == []
    assert "deploy" not in release_state.read_state(eb_project)  # not known to be healthy
