"""Publishing from a lab's own folder (issue 24, point 3): a folder outside the repository with
only ctsite.toml and data gets its deployment files from the installed ctsite. `deploy` and
`release` dry runs get past the bundle and image checks, a project file overrides its packaged
copy, and `doctor` says which file comes from where."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli import cli_env, run_ctsite

EFS = "fs-0123456789abcdef0"
REPOSITORY = "123456789012.dkr.ecr.us-east-2.amazonaws.com/lab-site"


def lab_folder(root: Path) -> Path:
    """Only ctsite.toml and an (empty) data folder: no Dockerfile, .ebignore or .ebextensions."""
    (root / "data").mkdir(parents=True)
    (root / "ctsite.toml").write_text(
        f'[aws]\nregion = "us-east-2"\n[efs]\nfile_system_id = "{EFS}"\n'
        f'[image]\nrepository = "{REPOSITORY}"\n'
    )
    return root


def offline(tmp_path: Path) -> dict[str, str]:
    """No credentials and nothing answering: a dry run must not need AWS."""
    return cli_env(
        without=("AWS_", "CTSITE_"),
        COLUMNS="200",
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        AWS_EC2_METADATA_DISABLED="true",
        AWS_ENDPOINT_URL="http://127.0.0.1:9",
        AWS_MAX_ATTEMPTS="1",
    )


def test_deploy_dry_run_from_a_lab_folder(tmp_path: Path) -> None:
    root = lab_folder(tmp_path / "mysite")
    done = run_ctsite("deploy", "--dry-run", "--json", cwd=root, env=offline(tmp_path))
    assert done.returncode == 0, done.stderr
    entries = {e["name"]: e for e in json.loads(done.stdout)["bundle"]["entries"]}
    assert {
        "Dockerrun.aws.json",
        ".ebextensions/01-options.config",
        ".ebextensions/02-efs-link.config",
        ".platform/hooks/predeploy/mount-efs.sh",
        ".platform/nginx/conf.d/upload-size.conf",
    } <= set(entries)
    assert entries[".ebextensions/01-options.config"]["rendered"] is True
    assert entries[".platform/hooks/predeploy/mount-efs.sh"]["mode"] == 0o755
    assert "ctsite.toml" not in entries


def test_a_lab_file_overrides_its_packaged_copy(tmp_path: Path) -> None:
    root = lab_folder(tmp_path / "mysite")
    conf = root / ".platform" / "nginx" / "conf.d" / "upload-size.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text("client_max_body_size 1M;\n")
    done = run_ctsite("deploy", "--dry-run", "--json", cwd=root, env=offline(tmp_path))
    assert done.returncode == 0, done.stderr
    entries = {e["name"]: e for e in json.loads(done.stdout)["bundle"]["entries"]}
    assert entries[".platform/nginx/conf.d/upload-size.conf"]["size"] == len(conf.read_bytes())
    assert ".platform/hooks/predeploy/mount-efs.sh" in entries  # the others still packaged


def test_release_dry_run_from_a_lab_folder(tmp_path: Path) -> None:
    root = lab_folder(tmp_path / "mysite")
    done = run_ctsite("release", "--dry-run", cwd=root, env=offline(tmp_path))
    text = done.stdout + done.stderr
    assert ".ebignore" not in text and "Dockerfile not found" not in text, text
    assert "Traceback" not in text
    assert "dry run: nothing was changed" in done.stdout, text


def test_doctor_names_the_source_of_each_deployment_file(tmp_path: Path) -> None:
    root = lab_folder(tmp_path / "mysite")
    (root / "Dockerrun.aws.json").write_text("{}")
    done = run_ctsite("doctor", "--json", cwd=root, env=offline(tmp_path))
    checks = {c["name"]: c for c in json.loads(done.stdout)["checks"]}
    files = checks["deployment files"]
    assert files["ok"] is True
    assert "project: Dockerrun.aws.json" in files["detail"]
    assert "packaged: " in files["detail"] and "Dockerfile" in files["detail"]
    assert ".platform/hooks/predeploy/mount-efs.sh" in files["detail"]


def test_release_dry_run_names_a_bad_site_value_once_beside_compile(
    small_dataset, tmp_path: Path
) -> None:
    """A [site] DOI that is none: the doctor fails its identity check (it passed it, though
    the release's compile refuses the value) and the plan says so once, beside compile."""
    root = small_dataset(site='title = "Gut atlas"\ndoi = "see the paper"\n')
    done = run_ctsite("release", "--dry-run", cwd=root, env=offline(tmp_path))
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith("✗ site identity") and "is not a DOI" in line for line in lines)
    plan = lines[lines.index("release plan") :]
    said = [line.strip() for line in plan if "is not a DOI" in line]
    assert len(said) == 1 and said[0].startswith("✗ blocked by"), plan
    beside = plan[plan.index(next(line for line in plan if "is not a DOI" in line)) - 1]
    assert beside.split()[:2] == ["run", "compile"], plan
