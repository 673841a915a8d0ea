"""The Elastic Beanstalk source bundle: a zip of Dockerrun.aws.json, .ebextensions/ and .platform/.

Files are chosen like the EB CLI does it, with `.ebignore` (gitignore syntax: the last matching
pattern wins, `!` re-includes, a trailing `/` matches directories only, an excluded directory is
never entered). `{{EFS_FILE_SYSTEM_ID}}` and `{{EFS_MOUNT_DIR}}` placeholders are rendered from
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
import zipfile
from pathlib import Path
from typing import Any

from ctsite.container.localrun import CONTAINER_PORT
from ctsite.errors import CtsiteError

IGNORE_FILE = ".ebignore"
DOCKERRUN = "Dockerrun.aws.json"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_EFS_ID = re.compile(r"^fs-[0-9a-f]{8,40}$")
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Z_]+)\s*\}\}")


@dataclasses.dataclass(frozen=True)
class Rule:
    """One compiled .ebignore line."""

    pattern: str
    regex: re.Pattern[str]
    negate: bool
    dir_only: bool


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


def _translate(body: str) -> str:
    """The regex for a gitignore pattern body (no `!`, no trailing `/`, no leading `/`)."""
    out: list[str] = []
    i = 0
    n = len(body)
    while i < n:
        c = body[i]
        if body.startswith("**", i):
            at_start = i == 0 or body[i - 1] == "/"
            if at_start and body.startswith("**/", i):
                out.append("(?:.*/)?")
                i += 3
                continue
            if at_start and i + 2 == n:
                out.append(".*")
                i += 2
                continue
            out.append("[^/]*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            first = i + 2 if body.startswith(("[!", "[]"), i) else i + 1
            end = body.find("]", first)
            if end < 0:
                out.append(re.escape(c))
                i += 1
                continue
            inner = body[i + 1 : end]
            if inner.startswith("!"):
                inner = "^" + inner[1:]
            out.append("[" + inner.replace("\\", "\\\\") + "]")
            i = end + 1
        elif c == "\\" and i + 1 < n:
            out.append(re.escape(body[i + 1]))
            i += 2
        else:
            out.append(re.escape(c))
            i += 1
    return "".join(out)


def compile_rule(line: str) -> Rule | None:
    """Compile one .ebignore line (None for blank lines and comments)."""
    text = re.sub(r"(?<!\\)\s+$", "", line.rstrip("\r\n"))
    if not text or text.startswith("#"):
        return None
    negate = text.startswith("!")
    if negate:
        text = text[1:]
    elif text.startswith(("\\!", "\\#")):
        text = text[1:]
    dir_only = text.endswith("/")
    body = text.rstrip("/")
    if not body:
        return None
    anchored = "/" in body
    body = body.lstrip("/")
    prefix = "^" if anchored else "^(?:.*/)?"
    regex = re.compile(prefix + _translate(body) + "$", re.DOTALL)
    return Rule(pattern=line.strip(), regex=regex, negate=negate, dir_only=dir_only)


def parse_ignore(text: str) -> list[Rule]:
    """All rules of an .ebignore text, in order."""
    return [rule for line in text.splitlines() if (rule := compile_rule(line)) is not None]


def is_ignored(rules: list[Rule], relpath: str, is_dir: bool) -> bool:
    """Whether `relpath` (posix, relative to the project) is excluded: the last match wins."""
    ignored = False
    for rule in rules:
        if rule.dir_only and not is_dir:
            continue
        if rule.regex.match(relpath):
            ignored = not rule.negate
    return ignored


def select_files(project: Path, rules: list[Rule]) -> list[str]:
    """The project's files that .ebignore keeps, as sorted posix paths; .git is never included."""
    chosen: list[str] = []
    for top, dirs, files in os.walk(project):
        base = Path(top).relative_to(project)
        kept = []
        for name in sorted(dirs):
            rel = (base / name).as_posix()
            if name != ".git" and not is_ignored(rules, rel, is_dir=True):
                kept.append(name)
        dirs[:] = kept
        for name in files:
            rel = (base / name).as_posix()
            if not is_ignored(rules, rel, is_dir=False):
                chosen.append(rel)
    return sorted(chosen)


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


def build_bundle(project: Path, dest: Path, efs_file_system_id: str, efs_mount_dir: str) -> Bundle:
    """Build the source bundle of `project` into the zip file `dest`."""
    ignore_file = project / IGNORE_FILE
    if not ignore_file.is_file():
        raise CtsiteError(
            f"no {IGNORE_FILE} in {project}",
            hint="run ctsite deploy from the project root (where .ebextensions/ lives), "
            "or restore .ebignore from the repository",
        )
    if efs_file_system_id and not _EFS_ID.match(efs_file_system_id):
        raise CtsiteError(
            f"efs_file_system_id {efs_file_system_id!r} is not an EFS id (fs-0123456789abcdef0)",
            hint="set efs_file_system_id in ctsite.toml or CTSITE_EFS_FILE_SYSTEM_ID",
        )
    names = select_files(project, parse_ignore(ignore_file.read_text(encoding="utf-8")))
    if DOCKERRUN not in names:
        raise CtsiteError(
            f"{DOCKERRUN} is missing from the bundle (looked in {project})",
            hint="build it with `ctsite build`, and keep it un-ignored in .ebignore",
        )
    values = {"EFS_FILE_SYSTEM_ID": efs_file_system_id, "EFS_MOUNT_DIR": efs_mount_dir}
    dockerrun, warnings = check_dockerrun((project / DOCKERRUN).read_bytes(), efs_mount_dir)
    entries: list[Entry] = []
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".tmp")
    try:
        with zipfile.ZipFile(tmp, "w") as zf:
            for name in names:
                source = project / name
                data = source.read_bytes()
                mode = stat.S_IMODE(source.stat().st_mode)
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
    return Bundle(dest, entries, digest, dockerrun, warnings)
