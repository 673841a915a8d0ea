"""`ctsite status`, `versions` and `open` end to end through the Typer app.

Clients are injected through click's context object (`obj={"aws_client": factory}`): the
Elastic Beanstalk client is a real boto3 client under botocore's Stubber, everything else
(S3, Transfer, ECR) a real client talking to the moto server; two tests run the real command
in a subprocess (moto through AWS_ENDPOINT_URL, an unreachable endpoint).
"""

from __future__ import annotations

import datetime as dt
import webbrowser
from pathlib import Path
from typing import Any, ClassVar

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

ENV_QUERY = {"ApplicationName": APP, "EnvironmentNames": [ENV], "IncludeDeleted": False}
EVENTS_QUERY = {"ApplicationName": APP, "EnvironmentName": ENV}


def invoke(factory: Any, *args: str) -> Any:
    return CliRunner().invoke(app, list(args), obj={"aws_client": factory})


def test_status_shows_everything(
    eb_project: Path, eb_stub: Any, client_factory: Any, monkeypatch
) -> None:
    monkeypatch.setenv(
        "CTSITE_IMAGE_REPOSITORY", "123456789012.dkr.ecr.us-east-2.amazonaws.com/ct-site"
    )
    boto3.client("ecr", region_name=REGION).create_repository(repositoryName="ct-site")
    created = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)).isoformat()
    server = client_factory("transfer").create_server(
        Tags=[
            {"Key": "ctsite:ephemeral", "Value": "true"},
            {"Key": "ctsite:created", "Value": created},
        ]
    )["ServerId"]
    client_factory("transfer").create_server(Tags=[{"Key": "team", "Value": "other"}])
    eb_stub.add_response(
        "describe_environments", {"Environments": [env_description(version="v2")]}, ENV_QUERY
    )
    eb_stub.add_response(
        "describe_events",
        {"Events": [event(9, "Environment health has transitioned from Info to Ok.")]},
        EVENTS_QUERY,
    )
    eb_stub.add_response(
        "describe_application_versions",
        {
            "ApplicationVersions": [
                application_version("v2", when(-60)),
                application_version("v1", when(-120)),
            ]
        },
        {"ApplicationName": APP},
    )
    result = invoke(client_factory, "status")
    assert result.exit_code == 0, result.output + repr(result.exception)
    out = result.output
    assert "Ready" in out and "Green" in out and "http://ctsite.us-east-2" in out
    assert "transitioned from Info to Ok" in out
    assert " * v2" in out and "   v1" in out
    assert f"Transfer server still running: {server}" in out
    assert "$0.60 so far" in out


def test_versions_prune(eb_stub: Any, client_factory: Any, eb_project: Path) -> None:
    eb_stub.add_response(
        "describe_environments",
        {"Environments": [env_description(version="v1")]},
        {"ApplicationName": APP, "IncludeDeleted": False},
    )
    versions = [
        application_version(f"v{i}", dt.datetime(2026, 1, i, tzinfo=dt.UTC)) for i in (4, 3, 2, 1)
    ]
    eb_stub.add_response(
        "describe_application_versions", {"ApplicationVersions": versions}, {"ApplicationName": APP}
    )
    for label in ("v3", "v2"):
        eb_stub.add_response(
            "delete_application_version",
            {},
            {"ApplicationName": APP, "VersionLabel": label, "DeleteSourceBundle": True},
        )
    result = invoke(client_factory, "versions", "--prune", "--keep", "1", "--yes")
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert "deleted v3" in result.output and "deleted v2" in result.output
    assert "deleted v1" not in result.output and "deleted v4" not in result.output


class Recorder(webbrowser.BaseBrowser):
    opened: ClassVar[list[str]] = []

    def open(self, url: str, new: int = 0, autoraise: bool = True) -> bool:
        self.opened.append(url)
        return True


def test_open(eb_stub: Any, client_factory: Any, eb_project: Path) -> None:
    webbrowser.register("ctsite-test-recorder", None, Recorder("recorder"), preferred=True)
    eb_stub.add_response("describe_environments", {"Environments": [env_description()]}, ENV_QUERY)
    result = invoke(client_factory, "open")
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert Recorder.opened[-1] == "http://ctsite.us-east-2.elasticbeanstalk.com"


def test_missing_environment_is_one_line_via_moto(aws_env: str, eb_project: Path) -> None:
    """Real subprocess, AWS_ENDPOINT_URL → moto: the environment does not exist there."""
    boto3.client("elasticbeanstalk", region_name=REGION).create_application(ApplicationName=APP)
    result = run_ctsite("status", cwd=eb_project, env=cli_env(), timeout=120)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0] == (
        "error: Elastic Beanstalk environment 'Contacttracingsite-env' of application "
        "'Contacttracingsite' not found"
    )
    assert lines[1].startswith("hint: check eb_application")
    assert len(lines) == 2


def test_unreachable_endpoint_is_one_line(eb_project: Path, tmp_path: Path) -> None:
    env = cli_env(
        without=("AWS_", "CTSITE_"),
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_ENDPOINT_URL="http://127.0.0.1:9",
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
    )
    result = run_ctsite("versions", cwd=eb_project, env=env, timeout=120)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith(
        "error: could not list the environments of 'Contacttracingsite': "
        "cannot reach the AWS endpoint"
    )
    assert lines[1].startswith("hint: check the network") and len(lines) == 2


def queue_versions(stub: Any) -> None:
    stub.add_response(
        "describe_environments",
        {"Environments": [env_description(version="v4")]},
        {"ApplicationName": APP, "IncludeDeleted": False},
    )
    versions = [application_version(f"v{i}", when(i)) for i in (4, 3, 2)]
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
