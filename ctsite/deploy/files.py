"""Where each deployment file comes from: the project folder, else the one shipped in ctsite.

A lab publishes from its own folder (only `ctsite.toml` and its data): the Elastic Beanstalk
files (`Dockerrun.aws.json`, `.ebextensions/`, `.platform/`, `.ebignore`) and what the image build
needs (`Dockerfile`, `.dockerignore`, the dependency locks, the web-asset build files) ship inside
the package, in `ctsite/deploy/files/`. A file of the same relative path in the project wins, file
by file, so one hook or one option file can be overridden without copying the rest.

In the repository each entry of `ctsite/deploy/files/` is a link to the top-level file
(Dockerfile, .ebextensions/, …), the one developers edit; building the wheel or sdist copies the
contents, so there is one definition of each file.

`assemble_context` lays out the Docker build context of a project outside the source tree: the
resolved files plus the `ctsite` package that is running, so the image runs this same version.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Literal

import ctsite

PACKAGED = Path(__file__).resolve().parent / "files"
"""The folder of the deployment files shipped with ctsite."""

Source = Literal["project", "packaged"]

# The files the Elastic Beanstalk source bundle is chosen from (then filtered by .ebignore).
BUNDLE_FOLDERS = (".ebextensions", ".platform")
BUNDLE_FILES = ("Dockerrun.aws.json", ".ebignore")
# What the image build reads besides the ctsite package (the Dockerfile's COPY lines).
IMAGE_FILES = (
    "Dockerfile",
    ".dockerignore",
    "requirements/web.lock",
    "requirements/build.lock",
    "web-assets/package.json",
    "web-assets/package-lock.json",
    "web-assets/entry.js",
    "web-assets/build.mjs",
)
_SKIP_DIRS = {"__pycache__", ".git", "node_modules"}


@dataclasses.dataclass(frozen=True)
class Resolved:
    """One deployment file: its path relative to the project, the file used and where from."""

    name: str
    path: Path
    source: Source


def deployment_file(project: Path, name: str) -> Resolved | None:
    """`name` (posix, relative to the project) from the project if it has it, else the packaged
    copy; None when neither exists."""
    own = project / name
    if own.is_file():
        return Resolved(name, own, "project")
    packaged = PACKAGED / name
    if packaged.is_file():
        return Resolved(name, packaged, "packaged")
    return None


def _walk(root: Path) -> Iterable[str]:
    """The regular files under `root`, as sorted posix paths relative to it."""
    found: list[str] = []
    for top, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        base = Path(top).relative_to(root)
        found += [(base / name).as_posix() for name in names]
    return sorted(found)


def packaged_names() -> list[str]:
    """Every file shipped in `ctsite/deploy/files/`, as relative posix paths."""
    return list(_walk(PACKAGED))


def bundle_candidates(project: Path) -> dict[str, Resolved]:
    """The packaged EB files (`Dockerrun.aws.json`, `.ebignore`, `.ebextensions/`, `.platform/`)
    as resolved for `project`: its own copy where it has one."""
    chosen: dict[str, Resolved] = {}
    for name in packaged_names():
        if name.split("/", 1)[0] in BUNDLE_FOLDERS or name in BUNDLE_FILES:
            found = deployment_file(project, name)
            if found is not None:
                chosen[name] = found
    return chosen


def in_use(project: Path) -> list[Resolved]:
    """Each deployment file ctsite would use for `project` (for `doctor`)."""
    names = {*BUNDLE_FILES, *IMAGE_FILES}
    names |= {n for n in packaged_names() if n.split("/", 1)[0] in BUNDLE_FOLDERS}
    for folder in BUNDLE_FOLDERS:
        if (project / folder).is_dir():
            names |= {f"{folder}/{n}" for n in _walk(project / folder)}
    found = (deployment_file(project, name) for name in sorted(names))
    return [r for r in found if r is not None]


def package_dir() -> Path:
    """The folder of the `ctsite` package that is running (a checkout's or site-packages')."""
    return Path(ctsite.__file__).resolve().parent


def assemble_context(project: Path, dest: Path) -> list[Resolved]:
    """Fill the empty folder `dest` with the image build context of `project`.

    The image files come from the project or the package (`deployment_file`); `ctsite/` is a copy
    of the running package without byte-code, which the Dockerfile copies to /opt/ctsite, so the
    image runs exactly this ctsite. Returns the files used besides the package.
    """
    used: list[Resolved] = []
    for name in IMAGE_FILES:
        found = deployment_file(project, name)
        if found is None:
            continue
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(found.path, target)
        used.append(found)
    shutil.copytree(
        package_dir(),
        dest / "ctsite",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", "*.egg-info"),
    )
    return used


@contextlib.contextmanager
def image_context(project: Path) -> Iterator[tuple[Path, Source]]:
    """The build context of `project`'s image, while the block runs.

    A project with its own `Dockerfile` (e.g. the ctsite source tree) is its own context, as
    `docker build .` would take it; any other folder gets a context assembled in a temporary
    folder by `assemble_context` (the packaged Dockerfile).
    """
    if (project / "Dockerfile").is_file():
        yield project, "project"
        return
    with tempfile.TemporaryDirectory(prefix="ctsite-context-") as tmp:
        assemble_context(project, Path(tmp))
        yield Path(tmp), "packaged"
