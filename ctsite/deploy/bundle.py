"""The Elastic Beanstalk source bundle: a zip of Dockerrun.aws.json, .ebextensions/ and .platform/.

Each file comes from the project folder, else from the copy shipped in ctsite
(`ctsite.deploy.files`): a lab's folder holding only ctsite.toml and data deploys as is. Without a
Dockerrun.aws.json of its own (written by `build-push`), the caller's `dockerrun` document is used.

Files are chosen as the EB CLI chooses them: `.ebignore` read by `pathspec`'s gitwildmatch
patterns, each file matched on its own path (the last matching pattern wins, `!` re-includes). `{{EFS_FILE_SYSTEM_ID}}` and `{{EFS_MOUNT_DIR}}` placeholders are rendered from
the configuration, so no account-specific id is committed. Unix modes are kept (the platform hooks
must stay executable), timestamps are fixed so the same inputs give the same bytes, and the zip is
written to a temporary name and renamed into place.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import stat
import warnings
import zipfile
from pathlib import Path
from typing import Any

import pathspec

from ctsite.container.localrun import CONTAINER_PORT
from ctsite.deploy.files import Resolved, bundle_candidates, deployment_file
from ctsite.errors import CtsiteError

IGNORE_FILE = ".ebignore"
DOCKERRUN = "Dockerrun.aws.json"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_EFS_ID = re.compile(r"^fs-[0-9a-f]{8,40}$")
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Z_]+)\s*\}\}")


@dataclasses.dataclass(frozen=True)
class Entry:
    """One file of the bundle: its path inside the zip, Unix mode and size in bytes."""

    name: str
    mode: int
    size: int
    rendered: bool = False


@dataclasses.dataclass(frozen=True)
class Bundle:
    """A built source bundle."""

    path: Path
    entries: list[Entry]
    sha256: str
    dockerrun: dict[str, Any]
    warnings: list[str]

    @property
    def size(self) -> int:
        return self.path.stat().st_size


def parse_ignore(text: str) -> pathspec.PathSpec:
    """The rules of an .ebignore text, read exactly as the EB CLI reads them.

    The EB CLI uses pathspec's "gitwildmatch" patterns (deprecated in pathspec 1.x in favour of
    "gitignore", which differs on patterns such as `[ab]/*`): the same name gives the same bundle.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return pathspec.PathSpec.from_lines("gitwildmatch", text.splitlines())


def is_ignored(spec: pathspec.PathSpec, relpath: str, is_dir: bool = False) -> bool:
    """Whether `relpath` (posix, relative to the project) is excluded: the last match wins."""
    return spec.match_file(relpath + "/" if is_dir else relpath)


def select_files(project: Path, spec: pathspec.PathSpec) -> list[str]:
    """The project's files that .ebignore keeps, as sorted posix paths; .git is never included.

    Like `eb deploy`, every file is matched on its own path (a `!` rule can bring back a file
    inside an excluded folder).
    """
    chosen: list[str] = []
    for top, dirs, files in os.walk(project):
        dirs[:] = sorted(d for d in dirs if d != ".git")
        base = Path(top).relative_to(project)
        chosen += [rel for name in files if not spec.match_file(rel := (base / name).as_posix())]
    return sorted(chosen)


def select_resolved(project: Path, spec: pathspec.PathSpec) -> dict[str, Resolved]:
    """What the bundle holds, by path: the files `select_files` keeps, plus each packaged EB
    file the project does not have that .ebignore keeps too."""
    kept = {name: Resolved(name, project / name, "project") for name in select_files(project, spec)}
    for name, found in bundle_candidates(project).items():
        if name not in kept and found.source == "packaged" and not spec.match_file(name):
            kept[name] = found
    return dict(sorted(kept.items()))


def render(text: str, values: dict[str, str], where: str) -> str:
    """Replace `{{NAME}}` placeholders; an unknown or empty value is a clear error."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise CtsiteError(
                f"{where}: unknown placeholder {{{{{name}}}}}",
                hint=f"use one of: {', '.join('{{' + k + '}}' for k in sorted(values))}",
            )
        if not values[name]:
            key = name.lower()
            raise CtsiteError(
                f"{where} needs {name} but {key} is not configured",
                hint=f"set {key} in ctsite.toml or CTSITE_{name}",
            )
        return values[name]

    return _PLACEHOLDER.sub(one, text)


def check_dockerrun(raw: bytes, mount_dir: str) -> tuple[dict[str, Any], list[str]]:
    """Validate Dockerrun.aws.json (version 1, container port 8000); return it and warnings."""
    try:
        doc = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CtsiteError(
            f"{DOCKERRUN} is not valid JSON: {exc}", hint="fix the file or rebuild it"
        ) from None
    if not isinstance(doc, dict) or str(doc.get("AWSEBDockerrunVersion")) != "1":
        raise CtsiteError(
            f"{DOCKERRUN}: AWSEBDockerrunVersion must be 1 (single-container Docker platform)",
            hint="regenerate Dockerrun.aws.json with `ctsite build`",
        )
    image = doc.get("Image")
    if not isinstance(image, dict) or not image.get("Name"):
        raise CtsiteError(f"{DOCKERRUN}: Image.Name is missing", hint="name the image to run")
    ports = [p.get("ContainerPort") for p in doc.get("Ports", []) if isinstance(p, dict)]
    if not any(str(p) == str(CONTAINER_PORT) for p in ports):
        raise CtsiteError(
            f"{DOCKERRUN}: the container port must be {CONTAINER_PORT} (found {ports or 'none'})",
            hint=f'add "Ports": [{{"ContainerPort": {CONTAINER_PORT}}}]',
        )
    warnings = []
    for volume in doc.get("Volumes", []):
        host = str(volume.get("HostDirectory", "")) if isinstance(volume, dict) else ""
        if host and not (host == mount_dir or host.startswith(mount_dir.rstrip("/") + "/")):
            warnings.append(
                f"{DOCKERRUN}: volume {host} is not under efs_mount_dir {mount_dir}; "
                "the container will not see the EFS data"
            )
    return doc, warnings


def _check_yaml(name: str, text: str) -> None:
    import yaml

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CtsiteError(
            f"{name} is not valid YAML: {exc}".replace("\n", " "),
            hint="fix the .ebextensions file",
        ) from None
    if not isinstance(doc, dict):
        raise CtsiteError(f"{name} must be a YAML mapping", hint="fix the .ebextensions file")


def _zip_info(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.create_system = 3  # Unix, so the mode bits below are honoured on unzip
    info.external_attr = (stat.S_IFREG | stat.S_IMODE(mode)) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _mode(found: Resolved) -> int:
    """The file's Unix mode; a packaged file gets 0755 or 0644 from its executable bit (the
    platform hooks must stay executable however the package was installed)."""
    mode = stat.S_IMODE(found.path.stat().st_mode)
    if found.source == "packaged":
        return 0o755 if mode & 0o111 or found.name.endswith(".sh") else 0o644
    return mode


def build_bundle(
    project: Path,
    dest: Path,
    efs_file_system_id: str,
    efs_mount_dir: str,
    dockerrun: dict[str, Any] | None = None,
) -> Bundle:
    """Build the source bundle of `project` into the zip file `dest`.

    `dockerrun` is the Dockerrun.aws.json document used when the project has none of its own
    (the packaged one names no image of the lab's); without it the packaged file is used.
    """
    ignore_file = deployment_file(project, IGNORE_FILE)
    if ignore_file is None:
        raise CtsiteError(
            f"no {IGNORE_FILE} in {project} nor in the installed ctsite",
            hint="reinstall ctsite, or write an .ebignore into the project folder",
        )
    if efs_file_system_id and not _EFS_ID.match(efs_file_system_id):
        raise CtsiteError(
            f"efs_file_system_id {efs_file_system_id!r} is not an EFS id (fs-0123456789abcdef0)",
            hint="set efs_file_system_id in ctsite.toml or CTSITE_EFS_FILE_SYSTEM_ID",
        )
    chosen = select_resolved(project, parse_ignore(ignore_file.path.read_text(encoding="utf-8")))
    if DOCKERRUN not in chosen:
        raise CtsiteError(
            f"{DOCKERRUN} is missing from the bundle (looked in {project})",
            hint="build it with `ctsite build`, and keep it un-ignored in .ebignore",
        )
    own_dockerrun = chosen[DOCKERRUN].source == "project" or dockerrun is None
    raw_dockerrun = (
        chosen[DOCKERRUN].path.read_bytes()
        if own_dockerrun
        else (json.dumps(dockerrun, indent=2) + "\n").encode("utf-8")
    )
    values = {"EFS_FILE_SYSTEM_ID": efs_file_system_id, "EFS_MOUNT_DIR": efs_mount_dir}
    doc, warnings = check_dockerrun(raw_dockerrun, efs_mount_dir)
    entries: list[Entry] = []
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".tmp")
    try:
        with zipfile.ZipFile(tmp, "w") as zf:
            for name, found in chosen.items():
                data = raw_dockerrun if name == DOCKERRUN else found.path.read_bytes()
                mode = _mode(found)
                rendered = False
                if b"{{" in data and name.startswith((".ebextensions/", ".platform/")):
                    text = data.decode("utf-8")
                    new = render(text, values, name)
                    rendered = new != text
                    data = new.encode("utf-8")
                if name.startswith(".ebextensions/") and name.endswith(".config"):
                    _check_yaml(name, data.decode("utf-8"))
                zf.writestr(_zip_info(name, mode), data)
                entries.append(Entry(name=name, mode=mode, size=len(data), rendered=rendered))
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    digest = hashlib.sha256(dest.read_bytes()).hexdigest()
    return Bundle(dest, entries, digest, doc, warnings)
