"""The release and chores commands import no deploy dependency until they run (the slim runtime
image imports ctsite.cli without boto3, docker or paramiko)."""

from __future__ import annotations

import subprocess
import sys

BLOCK = """
import sys
for name in ("boto3", "botocore", "docker", "paramiko", "requests", "pandas", "numpy"):
    sys.modules[name] = None  # any import of them now fails
from typer.testing import CliRunner
from ctsite.cli import app
for command in (["release", "--help"], ["logs", "--help"], ["images", "--help"],
                ["restart", "--help"], ["alerts", "subscribe", "--help"]):
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 0, (command, result.output, result.exception)
print("ok")
"""


def test_cli_help_without_deploy_dependencies() -> None:
    done = subprocess.run(
        [sys.executable, "-c", BLOCK], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
