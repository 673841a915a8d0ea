"""`ctsite release` end to end through the Typer app.

moto plays STS, IAM, EFS, S3, private ECR and Transfer Family; Elastic Beanstalk (which moto
does not implement for versions/updates/events) is a real boto3 client under botocore's Stubber,
so every EB request of the doctor, the observation and the deployment is validated.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from ctsite.cli import app
from ctsite.config import load_settings
from ctsite.deploy import dockerrun, release_state
from ctsite.deploy.release import bundle_sha256, image_inputs_hash
from ctsite.errors import CtsiteError
from ctsite.sftp import manifest
from tests.support.ebtest import env_description, event
from tests.support.reltest import APP, ENV, PRIVATE_REPO, REGION, free_port

ENV_QUERY = {"ApplicationName": APP, "EnvironmentNames": [ENV], "IncludeDeleted": False}
DIGEST = "sha256:" + "ab" * 32
BUCKET = "elasticbeanstalk-us-east-2-test"


def env(version: str = "v1", status: str = "Ready", health: str = "Green") -> dict[str, Any]:
    """The release environment as Elastic Beanstalk describes it."""
    updated = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    return env_description(status, health, version, DateUpdated=updated)


@pytest.fixture
def released(release_project: Path, stubs: Any, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project whose last release pushed DIGEST, uploaded the store and deployed v1."""
    iam = boto3.client("iam", region_name=REGION)
    for role in ("AWSTransferLoggingAccess", "ctsite-transfer-user"):
        iam.create_role(RoleName=role, AssumeRolePolicyDocument="{}")
    efs_id = boto3.client("efs", region_name=REGION).create_file_system(CreationToken="t")[
        "FileSystemId"
    ]
    monkeypatch.setenv("CTSITE_EFS_FILE_SYSTEM_ID", efs_id)
    ecr = boto3.client("ecr", region_name=REGION)
    ecr.create_repository(repositoryName="ct-site")
    image = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {"digest": DIGEST, "size": 1, "mediaType": "application/json"}, "layers": []}  # fmt: skip
    ecr.put_image(
        repositoryName="ct-site",
        imageManifest=json.dumps(image),
        imageDigest=DIGEST,
        imageTag="latest",
    )
    s = load_settings(root=release_project)
    dockerrun.update(s, DIGEST)
    release_state.write_state(
        release_project,
        "image",
        {"repository": PRIVATE_REPO, "context_hash": image_inputs_hash(s), "digest": DIGEST},
    )
    release_state.write_state(
        release_project,
        "deploy",
        {"label": "v1", "bundle_sha256": bundle_sha256(s), "digest": DIGEST},
    )
    manifest.write_local_manifest(s.data_path, manifest.scan_local(s.data_path))
    return release_project


def invoke(stubs: Any, *args: str) -> Any:
    return CliRunner().invoke(app, ["release", *args], obj={"aws_client": stubs})


def queue_doctor_and_observe(stubs: Any, running: str = "v1") -> None:
    stubs.eb.add_response(
        "describe_applications",
        {"Applications": [{"ApplicationName": APP}]},
        {"ApplicationNames": [APP]},
    )
    stubs.eb.add_response("describe_environments", {"Environments": [env(running)]}, ENV_QUERY)
    stubs.eb.add_response("describe_environments", {"Environments": [env(running)]}, ENV_QUERY)


def transfer_servers() -> list[dict[str, Any]]:
    return boto3.client("transfer", region_name=REGION).list_servers()["Servers"]


def plan_rows(output: str) -> dict[str, str]:
    """step → 'run'/'skip' from the printed plan."""
    rows = {}
    for line in output.splitlines():
        words = line.split()
        if len(words) > 2 and words[0] in {"run", "skip"} and line.startswith("  "):
            rows[words[1]] = words[0]
    return rows


def test_nothing_changed_does_nothing(released: Path, stubs: Any) -> None:
    queue_doctor_and_observe(stubs)
    before = release_state.read_state(released)
    result = invoke(stubs, "--yes")
    assert result.exit_code == 0, result.output
    assert plan_rows(result.output) == dict.fromkeys(
        ["compile", "figures", "build-push", "upload-data", "deploy", "restart"], "skip"
    )
    assert "nothing to do" in result.output
    assert "estimated AWS cost of this release: $0.00" in result.output
    assert release_state.read_state(released) == before
    assert transfer_servers() == []
    stubs.assert_done()


def test_dry_run_prices_the_upload_and_creates_nothing(released: Path, stubs: Any) -> None:
    (released / "data" / "compiled" / "new.bin").write_bytes(b"\x00" * 5000)
    queue_doctor_and_observe(stubs)
    result = invoke(stubs, "--dry-run")
    assert result.exit_code == 0, result.output
    rows = plan_rows(result.output)
    assert rows["upload-data"] == "run" and rows["restart"] == "run"
    assert rows["deploy"] == "skip" and rows["build-push"] == "skip"
    assert "1 file(s) (0.0 MB) to send" in result.output
    assert "dry run: nothing was changed" in result.output
    assert "$0.03" in result.output  # 5 min of server time at $0.30/h
    assert transfer_servers() == []
    stubs.assert_done()


def test_failed_upload_stops_before_deploy_and_leaves_no_server(
    released: Path, stubs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    (released / "data" / "compiled" / "new.bin").write_bytes(b"\x00" * 5000)
    state = release_state.read_state(released)
    release_state.write_state(released, "deploy", {**state["deploy"], "bundle_sha256": "older"})
    monkeypatch.setenv("CTSITE_SFTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CTSITE_SFTP_PORT", str(free_port()))  # nothing listens there
    monkeypatch.setenv("CTSITE_SFTP_HOST_KEY_FINGERPRINT", "SHA256:" + "A" * 43)
    queue_doctor_and_observe(stubs)
    result = invoke(stubs, "--yes")
    rows = plan_rows(result.output)
    assert rows["upload-data"] == "run" and rows["deploy"] == "run"
    assert isinstance(result.exception, CtsiteError), result.output
    message = result.exception.message
    assert message.startswith("release stopped at upload-data:")
    assert "cannot connect to SFTP server 127.0.0.1" in message
    assert "later steps not run" in message
    assert "deleting the Transfer Family server" in result.output
    assert "✗ upload-data" in result.output and "release stopped after" in result.output
    assert "release done" not in result.output
    assert transfer_servers() == []  # torn down
    assert release_state.read_state(released)["deploy"]["bundle_sha256"] == "older"  # no deploy
    stubs.assert_done()  # and no Elastic Beanstalk call beyond the doctor and the observation


def queue_deploy(stubs: Any, label: str) -> None:
    boto3.client("s3", region_name=REGION).create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    stubs.eb.add_response("describe_environments", {"Environments": [env("v1")]}, ENV_QUERY)
    stubs.eb.add_response("create_storage_location", {"S3Bucket": BUCKET}, {})
    stubs.eb.add_response(
        "create_application_version",
        {"ApplicationVersion": {"ApplicationName": APP, "VersionLabel": label}},
        {
            "ApplicationName": APP,
            "VersionLabel": label,
            "Description": "config change",
            "SourceBundle": {"S3Bucket": BUCKET, "S3Key": f"{APP}/{label}.zip"},
            "Process": False,
        },
    )
    updating = env("v1", status="Updating")
    stubs.eb.add_response(
        "update_environment",
        updating,
        {"ApplicationName": APP, "EnvironmentName": ENV, "VersionLabel": label},
    )
    since = updating["DateUpdated"] - dt.timedelta(seconds=5)
    stubs.eb.add_response(
        "describe_events",
        {"Events": [event(0, "deploying", EventDate=since + dt.timedelta(seconds=9))]},
        {"ApplicationName": APP, "EnvironmentName": ENV, "StartTime": since},
    )  # fmt: skip
    stubs.eb.add_response("describe_environments", {"Environments": [env(label)]}, ENV_QUERY)


def test_changed_bundle_deploys_then_nothing_to_do(released: Path, stubs: Any) -> None:
    (released / ".ebextensions" / "99-extra.config").write_text("option_settings: []\n")
    queue_doctor_and_observe(stubs)
    queue_deploy(stubs, "v2")
    result = invoke(stubs, "--yes", "--label", "v2", "-m", "config change", "--poll", "0.01")
    assert result.exit_code == 0, result.output
    rows = plan_rows(result.output)
    assert [k for k, v in rows.items() if v == "run"] == ["deploy"]
    assert "the source bundle changed" in result.output
    assert "✓ deploy" in result.output
    assert "deployed version v2: http://ctsite.us-east-2.elasticbeanstalk.com" in result.output
    assert boto3.client("s3", region_name=REGION).head_object(Bucket=BUCKET, Key=f"{APP}/v2.zip")
    deployed = release_state.read_state(released)["deploy"]
    assert deployed["label"] == "v2" and deployed["digest"] == DIGEST
    stubs.assert_done()

    queue_doctor_and_observe(stubs, running="v2")
    result = invoke(stubs, "--yes")
    assert result.exit_code == 0, result.output
    assert "nothing to do" in result.output
    stubs.assert_done()


def test_refuses_to_deploy_an_image_that_was_not_pushed(released: Path, stubs: Any) -> None:
    other = "sha256:" + "cd" * 32
    dockerrun.update(load_settings(root=released), other)  # pinned by hand, never pushed
    queue_doctor_and_observe(stubs)
    result = invoke(stubs, "--yes")
    assert plan_rows(result.output)["deploy"] == "run"
    assert isinstance(result.exception, CtsiteError), result.output
    assert result.exception.message.startswith(
        f"release stopped at deploy: refusing to deploy {PRIVATE_REPO}@{other}: "
        f"it is not the pushed image {DIGEST}"
    )
    stubs.assert_done()  # no storage location, version or update requested


def test_environment_on_another_version_is_redeployed(released: Path, stubs: Any) -> None:
    queue_doctor_and_observe(stubs, running="v0-rollback")
    result = invoke(stubs, "--dry-run")
    assert result.exit_code == 0, result.output
    assert plan_rows(result.output)["deploy"] == "run"
    assert "the environment runs v0-rollback, not the last release's v1" in result.output
    stubs.assert_done()


def test_image_change_without_docker_stops_before_anything(
    released: Path, stubs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    (released / "ctsite" / "app.py").write_text("print('new code')\n")
    monkeypatch.setenv("DOCKER_HOST", f"unix://{released}/no-docker.sock")
    queue_doctor_and_observe(stubs)
    result = invoke(stubs, "--yes")
    rows = plan_rows(result.output)
    assert rows["build-push"] == "run" and rows["deploy"] == "run"
    assert "image inputs changed (build-context hash)" in result.output
    assert isinstance(result.exception, CtsiteError), result.output
    assert result.exception.message == (
        "release stopped before it started: doctor check(s) failed: Docker engine"
    )
    stubs.assert_done()


def test_missing_environment_stops_before_the_plan(released: Path, stubs: Any) -> None:
    stubs.eb.add_response(
        "describe_applications",
        {"Applications": [{"ApplicationName": APP}]},
        {"ApplicationNames": [APP]},
    )
    stubs.eb.add_response("describe_environments", {"Environments": []}, ENV_QUERY)
    result = invoke(stubs, "--yes")
    assert isinstance(result.exception, CtsiteError)
    assert "✗ EB environment" in result.output
    assert result.exception.message == (
        "release stopped before it started: doctor check(s) failed: EB environment"
    )
    assert "release plan" not in result.output
    stubs.assert_done()


def test_bad_options(released: Path, stubs: Any) -> None:
    result = invoke(stubs, "--label", "has space")
    assert isinstance(result.exception, CtsiteError)
    assert "invalid version label" in result.exception.message
    result = invoke(stubs, "--force", "everything")  # refused before any AWS call
    assert isinstance(result.exception, CtsiteError)
    assert result.exception.message == "unknown step(s) for --force: everything"
    stubs.assert_done()


def test_confirmation_required_without_a_terminal(released: Path, stubs: Any) -> None:
    queue_doctor_and_observe(stubs)
    result = invoke(stubs, "--force", "restart")
    assert isinstance(result.exception, CtsiteError)
    assert result.exception.message == "confirmation needed"
    stubs.assert_done()


def blockers(output: str) -> dict[str, list[str]]:
    """step → the 'blocked by' lines printed under its plan row."""
    found: dict[str, list[str]] = {}
    step = ""
    for line in output.splitlines():
        words = line.split()
        if len(words) > 2 and words[0] in {"run", "skip"} and line.startswith("  "):
            step = words[1]
            found[step] = []
        elif step and "blocked by" in line and line.startswith("    "):
            found[step].append(line.strip())
    return found


def test_dry_run_shows_the_whole_plan_with_every_gap(
    release_project: Path, stubs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No EFS id, no IAM roles, no compiled store, no Docker: the dry run still prints all six
    steps, each gap beside the step it blocks, and exits non-zero."""
    monkeypatch.delenv("CTSITE_EFS_FILE_SYSTEM_ID", raising=False)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{release_project}/no-docker.sock")
    (release_project / "data" / "compiled" / "manifest.json").unlink()
    queue_doctor_and_observe(stubs)
    result = invoke(stubs, "--dry-run")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    rows = plan_rows(result.output)
    assert list(rows) == ["compile", "figures", "build-push", "upload-data", "deploy", "restart"]
    gaps = blockers(result.output)
    assert "the store is used as is" not in result.output
    assert any("compiled data" in g and "not found" in g for g in gaps["compile"])
    assert any("efs_file_system_id is not configured" in g for g in gaps["deploy"]), gaps
    assert any(g.startswith("✗ blocked by EFS file system") for g in gaps["upload-data"])
    assert any("IAM role transfer_user_role" in g for g in gaps["upload-data"])
    assert any("Docker engine" in g for g in gaps["build-push"])
    assert "dry run: nothing was changed" in result.output
    assert "a real release would stop" in result.output
    stubs.assert_done()


def test_dry_run_json_lists_the_blockers(
    release_project: Path, stubs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CTSITE_EFS_FILE_SYSTEM_ID", raising=False)
    queue_doctor_and_observe(stubs)
    result = invoke(stubs, "--dry-run", "--json")
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    blocked = doc["plan"]["blocked"]
    assert any("efs_file_system_id is not configured" in b for b in blocked["deploy"])
    checks = {c["name"]: c for c in doc["plan"]["checks"]}
    assert checks["EFS file system"]["status"] == "failed"
    stubs.assert_done()
