"""Every command module of ctsite.cli imports no deploy dependency until it runs (the slim runtime
image imports ctsite.cli without boto3, docker or paramiko; `serve` needs no compile/deploy code)."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import run_python

BLOCK = """
import sys
for name in ("boto3", "botocore", "docker", "paramiko", "requests", "pandas", "numpy"):
    sys.modules[name] = None  # any import of them now fails
from typer.testing import CliRunner
from ctsite.cli import app
for command in (["release", "--help"], ["logs", "--help"], ["images", "--help"],
                ["restart", "--help"], ["alerts", "subscribe", "--help"], ["deploy", "--help"],
                ["status", "--help"], ["upload-data", "--help"], ["build-push", "--help"],
                ["compile", "--help"], ["serve", "--help"], ["config", "--help"]):
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 0, (command, result.output, result.exception)
heavy = {"ctsite.deploy", "ctsite.aws", "ctsite.container", "ctsite.sftp", "ctsite.compile.build"}
assert not heavy & set(sys.modules), heavy & set(sys.modules)
print("ok")
"""


def test_cli_help_without_deploy_dependencies(tmp_path: Path) -> None:
    done = run_python("-c", BLOCK, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_cli_module_imports_no_deploy_dependencies(tmp_path: Path) -> None:
    """The slim runtime image imports ctsite.cli: this module must not pull in boto3 & co."""
    code = (
        "import sys, ctsite.cli\n"
        "heavy = {'boto3', 'botocore', 'docker', 'paramiko', 'yaml'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    result = run_python("-c", code, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
