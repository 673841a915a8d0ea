"""The command line habits of issue 12 through the real CLI: help printed as written, shell
completion, the global options, environment variables, configuration ranges and warnings."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ctsite.cli import app
from tests.support.cli import cli_env, run_ctsite


def ctsite(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m ctsite ARGS` in `cwd`, with no CTSITE_*/AWS_* variable of the caller."""
    return run_ctsite(
        *args, cwd=cwd, env=cli_env(without=("CTSITE_", "AWS_"), COLUMNS="120", **env), timeout=120
    )


def test_help_prints_brackets_and_no_bool_metavars(tmp_path: Path) -> None:
    done = ctsite("compile", "--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "(overrides [data] interactions)" in " ".join(done.stdout.split())
    assert "<bool>" not in done.stdout
    assert "--force " in done.stdout and "--json " in done.stdout
    for command in ("deploy", "versions", "release", "doctor", "events", "health", "logs"):
        text = ctsite(command, "--help", cwd=tmp_path).stdout
        assert "<bool>" not in text, command


def test_config_shows_the_data_section_literally(tmp_path: Path) -> None:
    done = ctsite("config", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "no [data] section" in done.stdout
    assert "[beanstalk]" in done.stdout and "[provision]" in done.stdout


def test_completion_script(tmp_path: Path) -> None:
    # the script `--install-completion` installs (asked for directly: no shell detection)
    done = ctsite(cwd=tmp_path, _CTSITE_COMPLETE="source_bash")
    assert done.returncode == 0, done.stderr
    assert "_CTSITE_COMPLETE" in done.stdout and "complete " in done.stdout
    # the completion itself: bash asks the program for the words after `ctsite ev`
    done = ctsite(
        cwd=tmp_path, _CTSITE_COMPLETE="complete_bash", COMP_WORDS="ctsite ev", COMP_CWORD="1"
    )
    assert "events" in done.stdout.split()


def test_root_help_lists_global_options_and_new_commands(tmp_path: Path) -> None:
    text = ctsite("--help", cwd=tmp_path).stdout
    for option in ("--verbose", "--quiet", "--debug", "--profile", "--region", "CTSITE_CONFIG"):
        assert option in text
    for command in ("events", "health"):
        assert f"  {command} " in text


def test_root_profile_and_region_reach_the_settings(tmp_path: Path) -> None:
    done = ctsite("--profile", "lab", "--region", "eu-west-1", "config", "--json", cwd=tmp_path)
    doc = json.loads(done.stdout)
    aws = doc["sections"]["aws"]
    assert aws["aws_region"] == {"value": "eu-west-1", "source": "command line"}
    assert aws["aws_profile"] == {"value": "lab", "source": "command line"}
    # a command's own --region wins over the root one
    result = CliRunner().invoke(app, ["--region", "eu-west-1", "doctor", "--help"])
    assert result.exit_code == 0


def test_unknown_ctsite_variable_is_a_warning_naming_the_closest(tmp_path: Path) -> None:
    done = ctsite("config", "--json", cwd=tmp_path, CTSITE_EB_APLICATION="x", CTSITE_YES="1")
    assert done.returncode == 0, done.stderr
    json.loads(done.stdout)  # stdout stays one JSON document
    assert (
        "warning: ignoring the environment variable CTSITE_EB_APLICATION: not a ctsite "
        "setting; did you mean CTSITE_EB_APPLICATION?"
    ) in done.stderr
    assert "CTSITE_YES" not in done.stderr  # read by --yes, not a setting


def test_unknown_key_in_the_file_stays_an_error(tmp_path: Path) -> None:
    (tmp_path / "ctsite.toml").write_text("[beanstalk]\naplication = 'x'\n")
    done = ctsite("config", cwd=tmp_path)
    assert done.returncode == 2
    assert "unknown setting(s): [beanstalk] aplication; did you mean application?" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("toml", "env", "args", "expected"),
    [
        ("serve_port = -1\n", {}, ["config"], "serve_port = -1 is out of range (valid: 1..65535)"),
        (
            "[compile]\nblock_rows = -1\n",
            {},
            ["config"],
            "[compile] block_rows = -1 is out of range (valid: ≥ 0)",  # as the file wrote it
        ),
        ("", {"CTSITE_COMPILE_JOBS": "500"}, ["config"], "compile_jobs = 500 is out of range"),
        ("", {}, ["serve", "--port", "99999"], "serve_port = 99999 is out of range"),
        ("", {"CTSITE_UPLOAD_JOBS": "0"}, ["config"], "upload_jobs = 0 is out of range"),
        ("", {"CTSITE_TRANSFER_HOURLY_COST": "-1"}, ["config"], "transfer_hourly_cost = -1.0"),
    ],
)
def test_settings_out_of_range_are_one_line(
    tmp_path: Path, toml: str, env: dict[str, str], args: list[str], expected: str
) -> None:
    (tmp_path / "ctsite.toml").write_text(toml)
    done = ctsite(*args, cwd=tmp_path, **env)
    assert done.returncode == 2, done.stdout
    assert expected in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 2
    source = "ctsite.toml" if toml else "environment variable" if env else "command line"
    assert source in done.stderr


def test_tracebacks_only_with_debug(tmp_path: Path) -> None:
    # no compiled store there: an error the code reports as a CtsiteError
    (tmp_path / "ctsite.toml").write_text('compiled_dir = "nowhere"\n')
    done = ctsite("export", "circos", cwd=tmp_path)
    assert done.returncode == 3 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: ")
    done = ctsite("--debug", "export", "circos", cwd=tmp_path)
    assert done.returncode == 3 and "Traceback" in done.stderr


def test_verbose_and_quiet_exclude_each_other(tmp_path: Path) -> None:
    done = ctsite("-v", "-q", "config", cwd=tmp_path)
    assert done.returncode == 2 and "exclude each other" in done.stderr


def test_json_and_quiet_together(tmp_path: Path) -> None:
    done = ctsite("--quiet", "config", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["sections"]["aws"]["aws_region"]["value"] == "us-east-2"
    assert done.stderr == ""
    (tmp_path / "ctsite.toml").write_text("serve_port = 0\n")
    done = ctsite("-q", "config", "--json", cwd=tmp_path)
    assert done.returncode == 2
    assert "serve_port = 0 is out of range" in json.loads(done.stdout)["error"]
