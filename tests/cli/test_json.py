"""`--json` through the real CLI: stdout is exactly one JSON document (progress and warnings go
to stderr), and an error is `{"error": ..., "hint": ...}` with the usual non-zero exit."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import boto3
from typer.testing import CliRunner

from ctsite.cli import app
from tests.cli.test_release import ENV_QUERY, env, queue_doctor_and_observe, released
from tests.cli.test_release_force import add_dataset
from tests.support.ebtest import application_version
from tests.support.reltest import APP, ENV, REGION

__all__ = ["released"]
EVENTS_QUERY = {"ApplicationName": APP, "EnvironmentName": ENV}
CREATED = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)  # when the stubbed v1 was created


def as_json(stubs: Any, *args: str, code: int = 0) -> Any:
    result = CliRunner().invoke(app, [*args, "--json"], obj={"aws_client": stubs})
    assert result.exit_code == code, result.output
    return json.loads(result.stdout)  # the whole of stdout is one document


def queue_versions(stubs: Any) -> None:
    stubs.eb.add_response(
        "describe_application_versions",
        {"ApplicationVersions": [application_version("v1", CREATED)]},
        {"ApplicationName": APP},
    )


def test_release_dry_run_plan(released: Path, stubs: Any) -> None:
    (released / "data" / "compiled" / "new.bin").write_bytes(b"\x00" * 5000)
    queue_doctor_and_observe(stubs)
    doc = as_json(stubs, "release", "--dry-run")
    decisions = {d["step"]: d for d in doc["plan"]["decisions"]}
    assert doc["dry_run"] is True and doc["steps"] == []
    assert decisions["upload-data"]["run"] is True and decisions["upload-data"]["cost"] > 0
    assert decisions["deploy"]["run"] is False
    assert {c["name"] for c in doc["plan"]["checks"]} >= {"AWS credentials", "EB environment"}
    stubs.assert_done()


def test_status(released: Path, stubs: Any) -> None:
    stubs.eb.add_response("describe_environments", {"Environments": [env()]}, ENV_QUERY)
    stubs.eb.add_response("describe_events", {"Events": []}, EVENTS_QUERY)
    queue_versions(stubs)
    doc = as_json(stubs, "status")
    assert doc["environment"]["status"] == "Ready" and doc["environment"]["version"] == "v1"
    assert doc["environment"]["url"] == "http://ctsite.us-east-2.elasticbeanstalk.com"
    assert doc["versions"][0] == {
        "label": "v1", "created": "2026-01-01T12:00:00+00:00", "status": "PROCESSED",
        "description": "ctsite deploy v1", "deployed": True,
    }  # fmt: skip
    assert [i["tags"] for i in doc["images"]] == [["latest"]]
    assert doc["servers"] == []
    stubs.assert_done()


def test_versions(released: Path, stubs: Any) -> None:
    stubs.eb.add_response(
        "describe_environments",
        {"Environments": [env()]},
        {"ApplicationName": APP, "IncludeDeleted": False},
    )
    queue_versions(stubs)
    doc = as_json(stubs, "versions")
    assert doc["application"] == APP and [v["label"] for v in doc["versions"]] == ["v1"]
    assert doc["pruned"] == []
    stubs.assert_done()


def test_images(released: Path, stubs: Any) -> None:
    stubs.eb.add_response("describe_environments", {"Environments": [env()]}, ENV_QUERY)
    stubs.eb.add_response(
        "describe_application_versions",
        {"ApplicationVersions": []},
        {"ApplicationName": APP, "VersionLabels": ["v1"]},
    )
    doc = as_json(stubs, "images")
    assert doc["images"][0]["deployed"] is True  # Dockerrun.aws.json pins it
    assert doc["images"][0]["image"]["tags"] == ["latest"]
    stubs.assert_done()


def test_doctor_reports_failures_in_json(released: Path, stubs: Any, monkeypatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{released}/no-docker.sock")
    stubs.eb.add_response(
        "describe_applications",
        {"Applications": [{"ApplicationName": APP}]},
        {"ApplicationNames": [APP]},
    )
    stubs.eb.add_response("describe_environments", {"Environments": [env()]}, ENV_QUERY)
    doc = as_json(stubs, "doctor", code=1)
    checks = {c["name"]: c for c in doc["checks"]}
    assert doc["ok"] is False and checks["Docker engine"]["ok"] is False
    assert checks["Docker engine"]["state"] == "failed" and doc["failed"] >= 1
    assert doc["passed"] + doc["failed"] + doc["skipped"] == len(doc["checks"])
    assert checks["EB environment"]["ok"] is True
    stubs.assert_done()


def test_alerts_list(released: Path, stubs: Any) -> None:
    sns = boto3.client("sns", region_name=REGION)
    arn = sns.create_topic(Name="ctsite-alerts")["TopicArn"]
    sns.subscribe(TopicArn=arn, Protocol="email", Endpoint="a@lab.org")
    doc = as_json(stubs, "alerts", "list", "--topic", arn)
    assert doc["topic"] == arn
    assert [(s["endpoint"], s["protocol"]) for s in doc["subscriptions"]] == [
        ("a@lab.org", "email")
    ]
    assert doc["subscriptions"][0]["confirmed"] in {True, False}


def test_upload_dry_run_and_deploy_dry_run_and_config(released: Path, stubs: Any) -> None:
    (released / "data" / "compiled" / "new.bin").write_bytes(b"\x00" * 5000)
    plan = as_json(stubs, "upload-data", "--dry-run")
    assert plan["files"] == 1 and plan["upload_bytes"] == 5000 and plan["offline"] is True
    assert plan["delete_scope"] == ["compiled"] and plan["estimated_cost"] > 0
    deploy = as_json(stubs, "deploy", "--dry-run", "--label", "v9")
    assert deploy["label"] == "v9" and deploy["dry_run"] is True and deploy["new_version"]
    assert any(e["name"] == "Dockerrun.aws.json" for e in deploy["bundle"]["entries"])
    config = as_json(stubs, "config")
    assert config["sections"]["beanstalk"]["eb_application"]["value"] == APP
    assert set(config["sections"]) == {
        "site",
        "compile",
        "image",
        "aws",
        "beanstalk",
        "transfer",
        "provision",
        "figures",
        "static",
    }


def test_compile(released: Path, stubs: Any) -> None:
    add_dataset(released)
    doc = as_json(stubs, "compile")
    assert doc["status"] == "built" and doc["cell_types"] > 0 and doc["conditions"]
    again = as_json(stubs, "compile")
    assert again["status"] == "up-to-date" and again["created"] == doc["created"]


def test_errors_are_json(released: Path, stubs: Any) -> None:
    stubs.eb.add_response("describe_environments", {"Environments": []}, ENV_QUERY)
    doc = as_json(stubs, "status", code=1)
    assert set(doc) == {"error", "hint"}
    assert "not found" in doc["error"] and "eb_environment" in doc["hint"]
    doc = as_json(stubs, "deploy", "--timeout", "0", code=1)
    assert doc == {"error": "--timeout and --poll must be positive", "hint": "e.g. --timeout 30"}
    doc = as_json(stubs, "release", "--force", "everything", code=2)
    assert doc["error"] == "unknown step(s) for --force: everything"
    stubs.assert_done()
