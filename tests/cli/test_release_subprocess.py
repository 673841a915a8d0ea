"""`python -m ctsite release` as a user runs it: a separate process, every AWS call (Elastic
Beanstalk's describe calls included) answered by the moto server through AWS_ENDPOINT_URL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import boto3

from tests.cli.test_release import released
from tests.support.reltest import APP, ENV, REGION

__all__ = ["released"]  # the fixture, re-used from the release CLI tests


def run(release_project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # cwd outside the project: its own ctsite/ folder (the image context) would shadow the package
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "ctsite",
            "-c",
            str(release_project / "ctsite.toml"),
            "release",
            *args,
        ],
        cwd=release_project.parent,
        env={**os.environ, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=180,
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
