"""Read and rewrite `Dockerrun.aws.json`, the Elastic Beanstalk (Docker, version 1) description.

The file is kept in the repository and only ever rewritten through ctsite: the image name comes
from the configuration (`image_repository:latest`, or `image_repository@sha256:…` when a pushed
digest is pinned), the container port is 8000 and the EFS data folder is mounted on /app/data.
Keys ctsite does not manage (e.g. `Logging`) are kept as they are. Writes are atomic.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from ctsite.config import Settings
from ctsite.container.localrun import CONTAINER_DATA_DIR, CONTAINER_PORT
from ctsite.errors import CtsiteError

FILENAME = "Dockerrun.aws.json"
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def path_for(settings: Settings) -> Path:
    """Where the project's Dockerrun.aws.json lives: the project root."""
    return settings.root / FILENAME


def image_name(repository: str, digest: str | None = None) -> str:
    """`repository@digest` when pinned, else `repository:latest`."""
    if digest is None:
        return f"{repository}:latest"
    if not _DIGEST.match(digest):
        raise CtsiteError(
            f"not an image digest: {digest!r}",
            hint="a digest looks like sha256: followed by 64 hex digits",
        )
    return f"{repository}@{digest}"


def host_data_dir(settings: Settings) -> str:
    """The data folder on the instance: the EFS mount plus the remote data folder."""
    mount = settings.efs_mount_dir.rstrip("/") or "/"
    return f"{mount}/{settings.remote_data_dir.strip('/')}"


def render(
    settings: Settings, digest: str | None = None, base: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The Dockerrun document for this configuration; keys of `base` ctsite does not own stay."""
    doc: dict[str, Any] = dict(base or {})
    doc["AWSEBDockerrunVersion"] = "1"
    doc["Image"] = {"Name": image_name(settings.image_repository, digest), "Update": "true"}
    doc["Ports"] = [{"ContainerPort": str(CONTAINER_PORT)}]
    doc["Volumes"] = [
        {"HostDirectory": host_data_dir(settings), "ContainerDirectory": CONTAINER_DATA_DIR}
    ]
    return doc


def read(path: Path) -> dict[str, Any]:
    """Parse an existing Dockerrun.aws.json (clear error when it is not a JSON object)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CtsiteError(f"{path} not found", hint="run `ctsite build-push` to write it") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CtsiteError(
            f"{path} is not valid JSON: {exc}",
            hint="fix or delete the file; ctsite rewrites it on the next push",
        ) from None
    if not isinstance(doc, dict):
        raise CtsiteError(f"{path} must hold a JSON object", hint="fix or delete the file")
    return doc


def pinned_digest(doc: dict[str, Any]) -> str | None:
    """The sha256 digest the document pins, or None when it names a tag."""
    name = str((doc.get("Image") or {}).get("Name", ""))
    _, sep, digest = name.partition("@")
    return digest if sep else None


def write(path: Path, doc: dict[str, Any]) -> None:
    """Write the document atomically (temp file in the same folder, then rename)."""
    text = json.dumps(doc, indent=2) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def default(settings: Settings) -> dict[str, Any]:
    """The document of a project without its own file: the packaged one, rendered for this
    configuration (so it names the configured repository, not the packaged example's)."""
    from ctsite.deploy.files import PACKAGED

    return render(settings, None, read(PACKAGED / FILENAME))


def update(settings: Settings, digest: str | None = None, path: Path | None = None) -> Path:
    """Rewrite the project's Dockerrun.aws.json for this configuration (and digest, if pinned);
    a project without one gets it written from the packaged file."""
    from ctsite.deploy.files import PACKAGED

    target = path or path_for(settings)
    base = read(target) if target.exists() else read(PACKAGED / FILENAME)
    write(target, render(settings, digest, base))
    return target
