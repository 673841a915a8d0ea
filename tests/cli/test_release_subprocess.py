"""`python -m ctsite release` as a user runs it: a separate process, every AWS call (Elastic
Beanstalk's describe calls included) answered by the moto server through AWS_ENDPOINT_URL."""

from __future__ import annotations

import subprocess
from pathlib import Path

import boto3

from tests.cli.test_release import released
from tests.support.cli import cli_env, run_ctsite
from tests.support.reltest import APP, ENV, REGION

__all__ = ["released"]  # the fixture, re-used from the release CLI tests


def run(release_project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`ctsite release ARGS` in the project (its own ctsite/ folder is not on the path)."""
    config = str(release_project / "ctsite.toml")
    return run_ctsite(
        "-c", config, "release", *args, cwd=release_project, env=cli_env(COLUMNS="200")
    )


def make_environment(with_env: bool = True) -> None:
    eb = boto3.client("elasticbeanstalk", region_name=REGION)
    eb.create_application(ApplicationName=APP)
    if with_env:
        stack = eb.list_available_solution_stacks()["SolutionStacks"][0]
        eb.create_environment(ApplicationName=APP, EnvironmentName=ENV, SolutionStackName=stack)


def test_dry_run_in_a_process(released: Path) -> None:
    make_environment()
    (released / "data" / "compiled" / "new.bin").write_bytes(b"\x01" * 2048)
    done = run(released, "--dry-run")
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "  run  upload-data 1 file(s) (0.0 MB) to send" in out
    assert "  skip build-push  image inputs unchanged" in out
    assert "  run  deploy      the environment runs 1, not the last release's v1" in out
    assert "dry run: nothing was changed" in out
    assert "Traceback" not in done.stderr
    assert boto3.client("transfer", region_name=REGION).list_servers()["Servers"] == []


def test_missing_environment_is_one_red_line(released: Path) -> None:
    make_environment(with_env=False)
    done = run(released, "--yes")
    assert done.returncode == 1
    assert (
        "✗ EB environment: Elastic Beanstalk environment 'Contacttracingsite-env' of "
        "application 'Contacttracingsite' not found"
    ) in done.stdout
    assert (
        "error: release stopped before it started: doctor check(s) failed: EB environment"
        in done.stderr
    )
    assert "Traceback" not in done.stderr + done.stdout


def test_dry_run_plans_offline_without_credentials(released: Path, tmp_path: Path) -> None:
    """No AWS credentials and no reachable endpoint: the plan still comes, saying what it could
    not check (issue 12)."""
    env = cli_env(
        without=("AWS_",),
        COLUMNS="200",
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        AWS_EC2_METADATA_DISABLED="true",
        AWS_ENDPOINT_URL="http://127.0.0.1:9",  # closed port: nothing answers
        AWS_MAX_ATTEMPTS="1",
    )
    done = run_ctsite(
        "-c", str(released / "ctsite.toml"), "release", "--dry-run", cwd=released, env=env
    )
    # the whole plan still comes; the failed credentials block it, so the exit is non-zero
    assert done.returncode == 1, done.stdout + done.stderr
    assert "could not check" in done.stdout
    assert "release plan" in done.stdout and "✗ blocked by AWS credentials" in done.stdout
    assert "dry run: nothing was changed" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
