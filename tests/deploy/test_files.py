"""Deployment files shipped in the package (ctsite/deploy/files/) and used from any folder: one
definition each (the packaged entry is a link to the repository's top-level file), the project's own
file wins file by file, and a bare lab folder gets a working bundle and image build context."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from ctsite.deploy import files
from ctsite.deploy.bundle import build_bundle

REPO = Path(__file__).resolve().parents[2]
EFS = "fs-0123456789abcdef0"


def bare_project(root: Path) -> Path:
    """A lab's folder outside the repository: only ctsite.toml and a data folder."""
    (root / "data").mkdir(parents=True)
    (root / "ctsite.toml").write_text(f'[efs]\nfile_system_id = "{EFS}"\n')
    return root


def test_each_packaged_file_is_the_top_level_file_itself() -> None:
    """One definition per file: the package holds links to the repository's top-level files (the
    wheel and sdist carry their contents), so there is nothing to keep in step by hand."""
    names = files.packaged_names()
    assert {"Dockerfile", ".ebignore", "Dockerrun.aws.json", ".dockerignore"} <= set(names)
    for name in names:
        top, packaged = REPO / name, files.PACKAGED / name
        assert top.is_file() and not top.is_symlink(), (
            f"{name} is packaged but not in the repository"
        )
        assert packaged.is_symlink(), f"{packaged} is a copy: ln -sfn the top-level {name} instead"
        assert packaged.resolve() == top.resolve(), f"{packaged} points at {packaged.resolve()}"


def test_every_top_level_deployment_file_is_packaged() -> None:
    wanted = {*files.IMAGE_FILES, *files.BUNDLE_FILES}
    for folder in files.BUNDLE_FOLDERS:
        wanted |= {
            p.relative_to(REPO).as_posix() for p in (REPO / folder).rglob("*") if p.is_file()
        }
    assert wanted <= set(files.packaged_names()), sorted(wanted - set(files.packaged_names()))


def test_the_dockerfile_copies_only_packaged_files() -> None:
    """Every COPY source of the Dockerfile (besides the ctsite package) is shipped."""
    sources = set()
    for line in (REPO / "Dockerfile").read_text().splitlines():
        parts = line.split()
        if parts[:1] == ["COPY"] and not parts[1].startswith("--from"):
            sources |= set(parts[1:-1])
    sources.discard("ctsite/")
    assert sources and sources <= set(files.packaged_names()), sources


def test_resolution_prefers_the_project_file(tmp_path: Path) -> None:
    root = bare_project(tmp_path / "lab")
    found = files.deployment_file(root, ".ebextensions/01-options.config")
    assert found is not None and found.source == "packaged"
    (root / ".ebextensions").mkdir()
    (root / ".ebextensions" / "01-options.config").write_text("option_settings: {}\n")
    found = files.deployment_file(root, ".ebextensions/01-options.config")
    assert found is not None and found.source == "project"
    assert files.deployment_file(root, "no-such-file") is None


def test_bundle_of_a_bare_folder_uses_the_packaged_files(tmp_path: Path) -> None:
    root = bare_project(tmp_path / "lab")
    bundle = build_bundle(root, tmp_path / "b.zip", EFS, "/efs_data")
    names = {e.name for e in bundle.entries}
    assert {
        "Dockerrun.aws.json",
        ".ebextensions/01-options.config",
        ".platform/hooks/predeploy/mount-efs.sh",
    } <= names
    assert "ctsite.toml" not in names and not any(n.startswith("data/") for n in names)
    with zipfile.ZipFile(bundle.path) as zf:
        options = zf.read(".ebextensions/01-options.config").decode()
        mode = zf.getinfo(".platform/hooks/predeploy/mount-efs.sh").external_attr >> 16
    assert EFS in options  # rendered
    assert mode & 0o111, oct(mode)  # the hook stays executable


def test_a_project_file_overrides_one_packaged_file(tmp_path: Path) -> None:
    root = bare_project(tmp_path / "lab")
    (root / ".platform" / "nginx" / "conf.d").mkdir(parents=True)
    (root / ".platform" / "nginx" / "conf.d" / "upload-size.conf").write_text("# the lab's\n")
    bundle = build_bundle(root, tmp_path / "b.zip", EFS, "/efs_data")
    with zipfile.ZipFile(bundle.path) as zf:
        assert zf.read(".platform/nginx/conf.d/upload-size.conf") == b"# the lab's\n"
        # the other files are still the packaged ones
        assert ".ebextensions/02-efs-link.config" in zf.namelist()
        packaged = (files.PACKAGED / ".platform/hooks/predeploy/mount-efs.sh").read_bytes()
        assert zf.read(".platform/hooks/predeploy/mount-efs.sh") == packaged


def test_in_use_lists_each_file_and_its_source(tmp_path: Path) -> None:
    root = bare_project(tmp_path / "lab")
    (root / "Dockerrun.aws.json").write_text(json.dumps({"AWSEBDockerrunVersion": "1"}))
    used = {r.name: r.source for r in files.in_use(root)}
    assert used["Dockerrun.aws.json"] == "project"
    assert used["Dockerfile"] == "packaged"
    assert used[".platform/hooks/predeploy/mount-efs.sh"] == "packaged"
    assert used["requirements/web.lock"] == "packaged"


def test_image_context_of_a_bare_folder_holds_the_running_ctsite(tmp_path: Path) -> None:
    """What `build-push` sends from a lab's folder: the packaged Dockerfile and locks, the
    web-asset build files and this ctsite package (without byte-code)."""
    root = bare_project(tmp_path / "lab")
    (root / "requirements").mkdir()
    (root / "requirements" / "web.lock").write_text("# the lab's lock\n")
    with files.image_context(root) as (context, source):
        assert source == "packaged" and context != root
        got = {p.relative_to(context).as_posix() for p in context.rglob("*") if p.is_file()}
        assert (context / "Dockerfile").read_bytes() == (REPO / "Dockerfile").read_bytes()
        assert (context / "requirements" / "web.lock").read_text() == "# the lab's lock\n"
        init = (context / "ctsite" / "__init__.py").read_text()
    assert set(files.IMAGE_FILES) <= got
    assert init == (files.package_dir() / "__init__.py").read_text()
    assert "ctsite/web/app.py" in got and "ctsite/web/templates/base.html" in got
    assert not [n for n in got if "__pycache__" in n or n.endswith(".pyc")]
    assert not context.exists()  # removed after the build


def test_a_project_with_its_own_dockerfile_is_its_own_context(tmp_path: Path) -> None:
    root = bare_project(tmp_path / "lab")
    (root / "Dockerfile").write_text("FROM scratch\n")
    with files.image_context(root) as (context, source):
        assert (context, source) == (root, "project")
