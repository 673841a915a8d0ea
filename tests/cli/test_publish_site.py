"""`ctsite publish-site` as a user runs it (a real process, AWS on moto's server): bad input is one
clear line and a non-zero exit; the bucket comes from `[static] bucket` or `--bucket`; `--dry-run`
lists what would be sent and touches nothing; `--json` answers in one document."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import cli_env, run_ctsite

BUCKET = "ctsite-cli-static"
CSS = "static/style.0123456789abcdef.css"


def fake_export(folder: Path) -> Path:
    """A tiny folder as `ctsite export-site` leaves one: its marker, a page and a hashed file."""
    (folder / "static").mkdir(parents=True)
    (folder / CSS).write_text("body { color: black }\n")
    (folder / "index.html").write_text(f'<link rel="stylesheet" href="{CSS}"><p>hello</p>\n')
    marker = {"kind": "ctsite export-site", "version": "v1", "files": ["index.html", CSS]}
    (folder / ".ctsite-export.json").write_text(json.dumps(marker))
    return folder


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_ctsite(
        "publish-site", *args, cwd=cwd, env=cli_env(without=("CTSITE_",), COLUMNS="200"),
        stdin=subprocess.DEVNULL,
    )  # fmt: skip


def one_error(result: subprocess.CompletedProcess[str], text: str) -> None:
    assert result.returncode != 0, result.stdout
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and text in lines[0], result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.fixture
def bucket(aws_env: str, moto_clients: Any) -> str:
    moto_clients("s3").create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "us-east-2"}
    )
    return BUCKET


def test_no_bucket_configured(aws_env, tmp_path):
    site = fake_export(tmp_path / "site")
    one_error(run(tmp_path, "--from", str(site)), "[static] bucket is not set")


def test_the_bucket_does_not_exist(aws_env, tmp_path):
    site = fake_export(tmp_path / "site")
    result = run(tmp_path, "--from", str(site), "--bucket", "no-such-ctsite-bucket")
    one_error(result, "the bucket no-such-ctsite-bucket does not exist")
    assert "provision apply --env static" in result.stderr


def test_no_export(bucket, tmp_path):
    (tmp_path / "empty").mkdir()
    one_error(run(tmp_path, "--from", str(tmp_path / "empty"), "--bucket", bucket), "not an export")
    one_error(
        run(tmp_path, "--from", str(tmp_path / "nothing"), "--bucket", bucket), "not a folder"
    )


def test_no_store_to_export(bucket, tmp_path):
    """Without --from the current store is exported first: none is there."""
    result = run(tmp_path, "--bucket", bucket, "--data", str(tmp_path / "no-store"))
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert len([x for x in result.stderr.splitlines() if x.startswith("error:")]) == 1


def test_dry_run_then_publish_with_the_bucket_from_the_configuration(
    bucket, moto_clients, tmp_path
):
    site = fake_export(tmp_path / "site")
    (tmp_path / "ctsite.toml").write_text(f'[static]\nbucket = "{bucket}"\n')
    dry = run(tmp_path, "--from", str(site), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"s3://{bucket}: would send 2 file(s)" in dry.stdout
    assert f"send {CSS}" in dry.stdout and "send index.html" in dry.stdout
    assert "nothing was sent" in dry.stdout
    # no distribution: the pages' paths are not "invalidated on" anything
    assert "invalidate on" not in dry.stdout
    assert "no CloudFront distribution configured: nothing to invalidate" in dry.stdout
    assert moto_clients("s3").list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0
    done = run(tmp_path, "--from", str(site), "--json")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["sent"] == 2 and answer["plan"]["bucket"] == bucket
    assert [u["key"] for u in answer["plan"]["uploads"]] == [CSS, "index.html"]
    again = run(tmp_path, "--from", str(site))
    assert again.returncode == 0, again.stderr
    assert "nothing sent" in again.stdout


def test_publishes_into_the_bucket_provision_made(aws_env, moto_clients, tmp_path):
    """Without `[static] bucket`, publish-site takes the bucket of the stack `provision apply
    --env static` made (it used to stop at "[static] bucket is not set", though ctsite had made
    the bucket itself)."""
    site = fake_export(tmp_path / "site")
    applied = run_ctsite(
        "provision", "apply", "--env", "static", "--yes", "--poll", "0.05", cwd=tmp_path,
        env=cli_env(without=("CTSITE_",), COLUMNS="200"), stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert applied.returncode == 0, applied.stdout + applied.stderr
    made = moto_clients("cloudformation").describe_stack_resource(
        StackName="ctsite-static", LogicalResourceId="Bucket"
    )["StackResourceDetail"]["PhysicalResourceId"]
    done = run(tmp_path, "--from", str(site), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["plan"]["bucket"] == made
    keys = [o["Key"] for o in moto_clients("s3").list_objects_v2(Bucket=made)["Contents"]]
    assert CSS in keys and "index.html" in keys


def test_a_page_of_someone_elses_is_one_line_and_kept(bucket, moto_clients, tmp_path):
    """The bucket holds an index.html ctsite did not put there: one line, in JSON too."""
    site = fake_export(tmp_path / "site")
    s3 = moto_clients("s3")
    s3.put_object(Bucket=bucket, Key="index.html", Body=b"<p>ours</p>")
    result = run(tmp_path, "--from", str(site), "--bucket", bucket)
    one_error(result, "1 object(s) ctsite did not put there")
    assert "its own" in result.stderr  # the hint: a bucket of its own
    answer = run(tmp_path, "--from", str(site), "--bucket", bucket, "--json")
    assert answer.returncode == 1 and "did not put there" in json.loads(answer.stdout)["error"]
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["index.html"]
    assert s3.get_object(Bucket=bucket, Key="index.html")["Body"].read() == b"<p>ours</p>"
