"""`ctsite doctor`: one ✓/✗ line per check against a real moto server (EB applications and
environments, EFS, IAM, Transfer and STS are all implemented there), the Docker engine and the
compiled store."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import boto3
import pytest

from ctsite.config import load_settings
from ctsite.deploy.doctor import check_compiled, check_docker, run_checks
from tests.support.cli import cli_env, run_ctsite
from tests.support.components import unavailable
from tests.support.ebtest import APP, ENV, REGION

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "transfer.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


def create_everything() -> str:
    """The lab's AWS resources in moto; returns the EFS id."""
    eb = boto3.client("elasticbeanstalk", region_name=REGION)
    eb.create_application(ApplicationName=APP)
    eb.create_environment(
        ApplicationName=APP,
        EnvironmentName=ENV,
        SolutionStackName="64bit Amazon Linux 2 running Docker",
    )
    iam = boto3.client("iam", region_name=REGION)
    for role in ("AWSTransferLoggingAccess", "ctsite-transfer-user"):
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=TRUST)
    efs = boto3.client("efs", region_name=REGION)
    return str(efs.create_file_system(CreationToken="ctsite-test")["FileSystemId"])


def doctor(eb_project: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = cli_env(DOCKER_HOST="unix:///nonexistent/docker.sock", **env)
    return run_ctsite("doctor", cwd=eb_project, env=environ, timeout=120)


def lines_by_check(out: str) -> dict[str, str]:
    found = {}
    for line in out.splitlines():
        if line[:1] in {"✓", "✗", "-", "!"}:
            name = line[2:].split(":", 1)[0]
            found[name] = line
    return found


def test_doctor_reports_each_check(aws_env: str, eb_project: Path) -> None:
    efs_id = create_everything()
    transfer = boto3.client("transfer", region_name=REGION)
    stray = transfer.create_server(
        Tags=[
            {"Key": "ctsite:ephemeral", "Value": "true"},
            {"Key": "ctsite:created", "Value": "2020-01-01T00:00:00+00:00"},
        ]
    )["ServerId"]
    result = doctor(eb_project, CTSITE_EFS_FILE_SYSTEM_ID=efs_id)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    checks = lines_by_check(result.stdout)
    assert checks["AWS credentials"].startswith("✓ AWS credentials: account 123456789012")
    assert checks["region"] == "✓ region: us-east-2"
    assert checks["EB application"] == f"✓ EB application: {APP}"
    assert checks["EB environment"].startswith(f"✓ EB environment: {ENV}: Ready")
    assert checks["EFS file system"] == f"✓ EFS file system: {efs_id} (available)"
    assert checks["IAM role transfer_logging_role"].endswith(":role/AWSTransferLoggingAccess")
    assert checks["IAM role transfer_user_role"].startswith("✓")
    assert checks["compiled data"].startswith("✓ compiled data:")
    docker = checks["Docker engine"]
    assert docker.startswith("✗ Docker engine: not reachable") and "→ start Docker" in docker
    servers = checks["stray Transfer servers"]
    assert servers.startswith(f"✗ stray Transfer servers: still running: {stray} (ONLINE")
    assert "so far" in servers and "aws transfer delete-server" in servers
    site = checks["site identity"]
    assert site.startswith("! site identity: title is the built-in") and "→ set [site]" in site
    assert "10 passed, 2 failed, 0 skipped (of 12 checks); 1 warning" in result.stdout


def test_doctor_with_nothing_there(aws_env: str, eb_project: Path) -> None:
    (eb_project / "data" / "compiled" / "manifest.json").write_text('{"tables": []}')
    result = doctor(eb_project, CTSITE_EFS_FILE_SYSTEM_ID="")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    checks = lines_by_check(result.stdout)
    assert checks["AWS credentials"].startswith("✓")
    assert checks["EB application"].startswith(
        f"✗ EB application: application '{APP}' not found in us-east-2 → create it"
    )
    assert checks["EB environment"].startswith(
        f"✗ EB environment: Elastic Beanstalk environment '{ENV}' of application '{APP}' not found"
    )
    assert checks["EFS file system"] == (
        "✗ EFS file system: efs_file_system_id is not set → set efs_file_system_id in "
        "ctsite.toml or CTSITE_EFS_FILE_SYSTEM_ID"
    )
    assert checks["IAM role transfer_logging_role"] == (
        "✗ IAM role transfer_logging_role: IAM role 'AWSTransferLoggingAccess' not found → "
        "create it in IAM (`ctsite provision check` prints how), or set transfer_logging_role "
        "(CTSITE_TRANSFER_LOGGING_ROLE)"
    )
    assert "has no schema_version → run `ctsite init`" in checks["compiled data"]
    assert checks["stray Transfer servers"] == "✓ stray Transfer servers: none"


def test_doctor_unknown_efs_id(aws_env: str, eb_project: Path) -> None:
    create_everything()
    result = doctor(eb_project, CTSITE_EFS_FILE_SYSTEM_ID="fs-00000000000000000")
    line = lines_by_check(result.stdout)["EFS file system"]
    assert line == (
        "✗ EFS file system: EFS file system fs-00000000000000000 not found in us-east-2 → "
        "fix efs_file_system_id (CTSITE_EFS_FILE_SYSTEM_ID) or aws_region"
    )


def test_all_checks_pass(aws_env: str, eb_project: Path) -> None:
    efs_id = create_everything()
    settings = load_settings(root=eb_project, overrides={"efs_file_system_id": efs_id})
    checks = run_checks(
        settings, lambda s: boto3.client(s, region_name=REGION), docker_ping=lambda: True
    )
    assert [c.name for c in checks if not c.ok] == []
    assert len(checks) == 12
    assert "deployment files" in [c.name for c in checks]


def test_bad_region(aws_env: str, eb_project: Path) -> None:
    settings = load_settings(root=eb_project, overrides={"aws_region": "mars-north-1"})
    checks = run_checks(settings, lambda s: boto3.client(s, region_name=REGION), lambda: True)
    (region,) = [c for c in checks if c.name == "region"]
    assert not region.ok and "CTSITE_AWS_REGION" in region.fix


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        (None, "not found"),
        ("{not json", "is not valid JSON"),
        ("[1, 2]", "has no schema_version"),
        ('{"schema_version": 3}', "(schema 3)"),
    ],
)
def test_check_compiled(tmp_path: Path, content: str | None, detail: str) -> None:
    compiled = tmp_path / "data" / "compiled"
    compiled.mkdir(parents=True)
    if content is not None:
        (compiled / "manifest.json").write_text(content)
    check = check_compiled(load_settings(root=tmp_path, environ={}))
    assert detail in check.detail
    assert check.ok is (content == '{"schema_version": 3}')
    if not check.ok:  # no [data] section: compile alone cannot help, init comes first
        assert (
            check.fix == "run `ctsite init` (it writes the [data] section), then `ctsite compile`"
        )


def test_docker_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    check = check_docker()
    assert not check.ok and "DOCKER_HOST" in check.fix


def test_docker_reachable_when_engine_runs() -> None:
    """With a real engine (CI starts dockerd) the check passes with the engine version."""
    import docker

    try:
        docker.from_env(timeout=5).ping()
    except Exception as exc:
        unavailable(f"no Docker engine reachable here: {exc}")
    check = check_docker()
    assert check.ok and check.detail.startswith("reachable (engine ")


def test_aws_checks_skipped_without_working_credentials(eb_project: Path, tmp_path: Path) -> None:
    env = cli_env(
        without=("AWS_", "CTSITE_"),
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_ENDPOINT_URL="http://127.0.0.1:9",
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        DOCKER_HOST="unix:///nonexistent/docker.sock",
    )
    result = run_ctsite("doctor", cwd=eb_project, env=env, timeout=120)
    assert result.returncode == 1
    checks = lines_by_check(result.stdout)
    assert "cannot reach the AWS endpoint" in checks["AWS credentials"]
    assert checks["AWS credentials"].startswith("✗") and "→" in checks["AWS credentials"]
    assert checks["EB application"] == (
        "- EB application: skipped: needs AWS credentials (that check failed)"
    )
    assert checks["compiled data"].startswith("✓")
    # failed and skipped are counted apart: 6 AWS checks were not run, not failed
    assert "4 passed, 2 failed, 6 skipped (of 12 checks); 1 warning" in result.stdout


def test_placeholder_identity_warns_without_failing(tmp_path: Path) -> None:
    from ctsite.compile.init_toml import ABOUT_PLACEHOLDER
    from ctsite.deploy.doctor import check_site_identity

    check = check_site_identity(load_settings(root=tmp_path))
    assert check.status == "warn" and check.ok
    assert "title is the built-in 'ContactTracing results'" in check.detail
    assert "no citation or doi" in check.detail and "[site]" in check.fix
    about = load_settings(
        root=tmp_path, overrides={"site_title": "Gut atlas", "site_about": ABOUT_PLACEHOLDER}
    )
    check = check_site_identity(about)
    assert check.status == "warn" and "about is the init placeholder" in check.detail
    assert "title" not in check.detail
    own = {"site_title": "Gut atlas", "site_about": "Our study.", "site_doi": "10.1234/x"}
    check = check_site_identity(load_settings(root=tmp_path, overrides=own))
    assert check.status == "ok" and check.ok and check.detail == "Gut atlas"


@pytest.mark.parametrize(
    ("key", "value", "said"),
    [
        ("site_doi", "see the paper", "doi = 'see the paper' is not a DOI"),
        ("site_paper_url", "javascript:alert(1)", "is not an http(s) URL"),
        ("site_data_links", "GEO GSE1", "is not label=URL"),
    ],
)
def test_a_site_value_compile_refuses_fails_the_identity_check(
    tmp_path: Path, key: str, value: str, said: str
) -> None:
    """Doctor, the preflight, passed a [site] value that `compile` (and so `release`) refuses:
    a DOI that is none, a link that is not http(s). It fails the check, with compile's words."""
    from ctsite.deploy.doctor import check_site_identity

    own = {"site_title": "Gut atlas", "site_about": "Our study.", "site_citation": "Us (2026)."}
    check = check_site_identity(load_settings(root=tmp_path, overrides={**own, key: value}))
    assert check.status == "failed" and not check.ok
    assert said in check.detail and check.fix and "\n" not in check.detail + check.fix


def test_doctor_json_tells_skipped_from_failed(eb_project: Path, tmp_path: Path) -> None:
    env = cli_env(
        without=("AWS_", "CTSITE_"),
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_ENDPOINT_URL="http://127.0.0.1:9",
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        DOCKER_HOST="unix:///nonexistent/docker.sock",
    )
    result = run_ctsite("doctor", "--json", cwd=eb_project, env=env, timeout=120)
    assert result.returncode == 1
    doc = json.loads(result.stdout)
    checks = {c["name"]: c for c in doc["checks"]}
    app = checks["EB application"]
    assert app["status"] == "skipped" and app["ok"] is None
    assert app["reason"] == "needs AWS credentials (that check failed)"
    assert checks["AWS credentials"]["status"] == "failed"
    assert checks["AWS credentials"]["ok"] is False
    assert checks["compiled data"]["status"] == "ok" and checks["compiled data"]["ok"] is True
    site = checks["site identity"]
    assert site["status"] == "warn" and site["ok"] is True
    assert doc["skipped"] == 6 and doc["warnings"] == 1
