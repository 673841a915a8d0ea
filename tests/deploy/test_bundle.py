"""The source bundle: file list and modes, .ebignore semantics, rendering, validation."""

from __future__ import annotations

import json
import re
import stat
import zipfile
from pathlib import Path

import pytest
import yaml

from ctsite.deploy.bundle import build_bundle, is_ignored, parse_ignore, select_files
from ctsite.errors import CtsiteError
from tests.support.components import unavailable
from tests.support.ebtest import DOCKERRUN, EFS_ID, REPO, make_project

EXPECTED = [
    (".ebextensions/01-options.config", 0o644),
    (".ebextensions/02-efs-link.config", 0o644),
    (".ebextensions/03-cloudwatch-memory.config", 0o644),
    (".platform/confighooks/postdeploy/https-redirect.sh", 0o755),
    (".platform/hooks/postdeploy/https-redirect.sh", 0o755),
    (".platform/hooks/predeploy/mount-efs.sh", 0o755),
    (".platform/nginx/conf.d/upload-size.conf", 0o644),
    ("Dockerrun.aws.json", 0o644),
]


def _modes(eb_project: Path) -> None:
    """Git only records the executable bit: normalise the copied tree to 644/755."""
    for path in eb_project.rglob("*"):
        if path.is_file():
            path.chmod(0o755 if path.name.endswith(".sh") else 0o644)


def test_bundle_has_exactly_the_eb_files_with_their_modes(eb_project: Path, tmp_path: Path) -> None:
    _modes(eb_project)
    (eb_project / ".ebextensions" / "01-options.config~").write_text("editor backup")
    (eb_project / ".platform" / "nginx" / "conf.d" / ".DS_Store").write_text("finder")
    bundle = build_bundle(eb_project, tmp_path / "b.zip", EFS_ID, "/efs_data")
    assert [(e.name, e.mode) for e in bundle.entries] == EXPECTED
    with zipfile.ZipFile(bundle.path) as zf:
        infos = zf.infolist()
        assert [i.filename for i in infos] == [name for name, _ in EXPECTED]
        for info, (_, mode) in zip(infos, EXPECTED, strict=True):
            assert info.create_system == 3
            assert stat.S_IMODE(info.external_attr >> 16) == mode
            assert stat.S_ISREG(info.external_attr >> 16)
        assert zf.testzip() is None


def test_bundle_extracts_with_executable_hook(eb_project: Path, tmp_path: Path) -> None:
    """`unzip` (what the EB instance uses) restores the hook's executable bit."""
    import shutil
    import subprocess

    if shutil.which("unzip") is None:
        unavailable("unzip not installed (apt-get install unzip)")
    _modes(eb_project)
    bundle = build_bundle(eb_project, tmp_path / "b.zip", EFS_ID, "/efs_data")
    out = tmp_path / "out"
    subprocess.run(["unzip", "-q", str(bundle.path), "-d", str(out)], check=True)
    hook = out / ".platform/hooks/predeploy/mount-efs.sh"
    assert hook.stat().st_mode & 0o111 == 0o111
    assert not (out / ".ebextensions/01-options.config").stat().st_mode & 0o111


def test_efs_id_and_mount_dir_are_rendered(eb_project: Path, tmp_path: Path) -> None:
    bundle = build_bundle(eb_project, tmp_path / "b.zip", EFS_ID, "/efs_data")
    rendered = {e.name for e in bundle.entries if e.rendered}
    assert rendered == {".ebextensions/01-options.config", ".ebextensions/02-efs-link.config"}
    with zipfile.ZipFile(bundle.path) as zf:
        options = yaml.safe_load(zf.read(".ebextensions/01-options.config"))
        link = zf.read(".ebextensions/02-efs-link.config").decode()
        for name in zf.namelist():
            assert not re.search(rb"\{\{\s*[A-Z_]+\s*\}\}", zf.read(name)), name
    settings = options["option_settings"]
    assert settings["aws:elasticbeanstalk:command"]["Timeout"] == 1800
    env = settings["aws:elasticbeanstalk:application:environment"]
    assert env == {"EFS_FILE_SYSTEM_ID": EFS_ID, "EFS_MOUNT_DIR": "/efs_data"}
    assert 'ln -sfn "/efs_data" efs_data' in link


def test_committed_files_hold_no_efs_id() -> None:
    for path in [
        *REPO.joinpath(".ebextensions").rglob("*"),
        *REPO.joinpath(".platform").rglob("*"),
    ]:
        if path.is_file():
            assert "fs-0" not in path.read_text(), path


@pytest.mark.parametrize("path", sorted((REPO / ".ebextensions").glob("*.config")), ids=str)
def test_ebextensions_yaml_parses(path: Path) -> None:
    doc = yaml.safe_load(path.read_text())
    assert isinstance(doc, dict) and doc
    assert set(doc) <= {"option_settings", "files", "container_commands", "commands", "packages"}


def test_cloudwatch_memory_metric_is_configured() -> None:
    doc = yaml.safe_load((REPO / ".ebextensions/03-cloudwatch-memory.config").read_text())
    (agent_file,) = doc["files"].values()
    # EB writes the environment's name where the config has its backquoted Ref
    agent = json.loads(agent_file["content"].replace('`{"Ref": "AWSEBEnvironmentName"}`', "env"))
    assert agent["metrics"]["metrics_collected"]["mem"]["measurement"] == ["mem_used_percent"]
    (command,) = doc["container_commands"].values()
    assert "amazon-cloudwatch-agent-ctl" in command["command"]


def test_missing_efs_id_is_a_clear_error(tmp_path: Path) -> None:
    eb_project = make_project(tmp_path / "p", efs_id="")
    with pytest.raises(CtsiteError) as info:
        build_bundle(eb_project, tmp_path / "b.zip", "", "/efs_data")
    assert "EFS_FILE_SYSTEM_ID" in info.value.message
    assert "efs_file_system_id" in (info.value.hint or "")
    assert not (tmp_path / "b.zip").exists()
    assert not list(tmp_path.glob("*.tmp"))


def test_bad_efs_id_is_rejected(eb_project: Path, tmp_path: Path) -> None:
    with pytest.raises(CtsiteError, match="not an EFS id"):
        build_bundle(eb_project, tmp_path / "b.zip", "fs-$(reboot)", "/efs_data")


def test_same_inputs_same_bytes(eb_project: Path, tmp_path: Path) -> None:
    a = build_bundle(eb_project, tmp_path / "a.zip", EFS_ID, "/efs_data")
    b = build_bundle(eb_project, tmp_path / "b.zip", EFS_ID, "/efs_data")
    assert a.sha256 == b.sha256


def test_repo_dockerrun_is_valid() -> None:
    """The image developer's Dockerrun.aws.json: version 1, port 8000, the EFS volume."""
    path = REPO / "Dockerrun.aws.json"
    from ctsite.deploy.bundle import check_dockerrun

    doc, warnings = check_dockerrun(path.read_bytes(), "/efs_data")
    assert warnings == []
    assert {"HostDirectory": "/efs_data/data", "ContainerDirectory": "/app/data"} in doc["Volumes"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"AWSEBDockerrunVersion": "2"}, "AWSEBDockerrunVersion must be 1"),
        ({"Ports": [{"ContainerPort": 5000}]}, "container port must be 8000"),
        ({"Image": {}}, "Image.Name"),
    ],
)
def test_bad_dockerrun_is_rejected(tmp_path: Path, change: dict, message: str) -> None:
    eb_project = make_project(tmp_path / "p", dockerrun={**DOCKERRUN, **change})
    with pytest.raises(CtsiteError, match=message):
        build_bundle(eb_project, tmp_path / "b.zip", EFS_ID, "/efs_data")


def test_dockerrun_volume_outside_mount_dir_warns(tmp_path: Path) -> None:
    eb_project = make_project(tmp_path / "p")
    bundle = build_bundle(eb_project, tmp_path / "b.zip", EFS_ID, "/mnt/efs")
    assert any("/efs_data/data is not under efs_mount_dir /mnt/efs" in w for w in bundle.warnings)


def test_dockerrun_must_be_in_bundle(eb_project: Path, tmp_path: Path) -> None:
    (eb_project / ".ebignore").write_text("*\n!/.ebextensions/**\n!/.platform/**\n")
    with pytest.raises(CtsiteError, match=r"Dockerrun\.aws\.json is missing"):
        build_bundle(eb_project, tmp_path / "b.zip", EFS_ID, "/efs_data")


def test_invalid_yaml_names_the_file(eb_project: Path, tmp_path: Path) -> None:
    (eb_project / ".ebextensions" / "09-bad.config").write_text("option_settings: [unclosed\n")
    with pytest.raises(CtsiteError, match=r"09-bad\.config is not valid YAML"):
        build_bundle(eb_project, tmp_path / "b.zip", EFS_ID, "/efs_data")


def test_without_its_own_ebignore_the_packaged_one_is_used(
    eb_project: Path, tmp_path: Path
) -> None:
    (eb_project / ".ebignore").unlink()
    (eb_project / "notes.txt").write_text("not for the bundle")
    bundle = build_bundle(eb_project, tmp_path / "b.zip", EFS_ID, "/efs_data")
    names = {e.name for e in bundle.entries}
    assert "Dockerrun.aws.json" in names and "notes.txt" not in names


# --- .ebignore semantics (gitignore syntax) -------------------------------------------------


@pytest.mark.parametrize(
    ("patterns", "path", "is_dir", "ignored"),
    [
        ("*.log", "a.log", False, True),
        ("*.log", "deep/dir/a.log", False, True),
        ("*.log", "a.log.txt", False, False),
        ("/build", "build", True, True),
        ("/build", "src/build", True, False),
        ("build/", "build", False, False),
        ("build/", "src/build", True, True),
        ("doc/*.txt", "doc/a.txt", False, True),
        ("doc/*.txt", "doc/sub/a.txt", False, False),
        ("**/logs", "a/b/logs", True, True),
        ("**/logs", "logs", True, True),
        ("a/**/b", "a/b", False, True),
        ("a/**/b", "a/x/y/b", False, True),
        ("a/**", "a/x/y", False, True),
        ("a/**", "a", True, True),
        ("*\n!keep.txt", "keep.txt", False, False),
        ("*\n!keep.txt", "other.txt", False, True),
        ("!keep.txt\n*", "keep.txt", False, True),
        ("f?o", "foo", False, True),
        ("f?o", "fo/o", False, False),
        ("[ab].c", "a.c", False, True),
        ("[!ab].c", "a.c", False, False),
        ("[!ab].c", "x.c", False, True),
        ("\\#notcomment", "#notcomment", False, True),
        ("# comment\n\n   ", "# comment", False, False),
        ("trailing   ", "trailing", False, True),
    ],
)
def test_ignore_rules(patterns: str, path: str, is_dir: bool, ignored: bool) -> None:
    assert is_ignored(parse_ignore(patterns), path, is_dir) is ignored


def test_a_file_in_an_excluded_folder_can_be_brought_back(tmp_path: Path) -> None:
    """As `eb deploy` does it: every file is matched on its own path (`dir`, then `!dir/keep`)."""
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "keep.txt").write_text("x")
    (tmp_path / "secret" / "other.txt").write_text("x")
    (tmp_path / "keep.txt").write_text("x")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text("x")
    for text in ("secret/\n!secret/keep.txt\n", "secret\n!secret/keep.txt\n"):
        assert select_files(tmp_path, parse_ignore(text)) == ["keep.txt", "secret/keep.txt"]


EB_TREE = [
    "Dockerrun.aws.json", ".ebextensions/01-efs.config", ".platform/hooks/predeploy/mount.sh",
    "data/compiled/manifest.json", "data/compiled/conditions/c1/circos.feather", "data/raw.h5ad",
    "docs/a.md", "docs/b.txt", "logs/x.log", "src/app/logs/y.log", "build/out.bin",
    "nested/build/keep.bin", "a/x/y/b", "a/b", "notes.log", "keep.log",
]  # fmt: skip
EB_PATTERNS = [
    "*\n!Dockerrun.aws.json\n!.ebextensions/\n!.ebextensions/**\n!.platform/**",
    "data\n!data/compiled/manifest.json",
    "data/\n!data/compiled/",
    "*.log\n!keep.log",
    "/build\nlogs/",
    "**/logs\ndocs/*.txt",
    "a/**/b\n# comment\n\n  ",
    "*\n!*/\n!*.json",
    "\\#x\n[ab]/*\n!a/b",
]


@pytest.mark.parametrize("patterns", EB_PATTERNS)
def test_selection_matches_the_eb_cli(tmp_path: Path, patterns: str) -> None:
    """The files kept are those the EB CLI keeps: pathspec gitwildmatch over every file path."""
    import warnings

    import pathspec

    for rel in EB_TREE:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(rel)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # EB CLI's own pattern name
        eb_spec = pathspec.PathSpec.from_lines("gitwildmatch", patterns.splitlines())
    excluded = set(eb_spec.match_tree_files(str(tmp_path)))
    assert select_files(tmp_path, parse_ignore(patterns)) == sorted(set(EB_TREE) - excluded)


def test_repo_ebignore_keeps_only_eb_files() -> None:
    names = select_files(REPO, parse_ignore((REPO / ".ebignore").read_text()))
    assert names, "nothing selected"
    for name in names:
        assert name == "Dockerrun.aws.json" or name.startswith((".ebextensions/", ".platform/"))
    assert ".platform/hooks/predeploy/mount-efs.sh" in names
