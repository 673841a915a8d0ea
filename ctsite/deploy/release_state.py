"""What `ctsite release` remembers between runs, and the content hash of the image's build context.

The state file (`.ctsite/release-state.json` under the project root, written atomically) records
the build-context hash with the digest it was pushed as, and the last deployment (version label,
source-bundle SHA-256, image digest). `context_hash` hashes every file Docker would send as the
build context (`.dockerignore` applied with the Docker SDK's own matcher, so the answer is the
same as `docker build`'s) plus the settings that change the image (name, platform, Dockerfile). `Dockerrun.aws.json` and
`.ctsite/` are never counted: ctsite writes them after a build.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from ctsite.errors import CtsiteError

DOCKERFILE = "Dockerfile"  # the only Dockerfile name whose builds are recorded
STATE_DIR = ".ctsite"
STATE_FILE = "release-state.json"
STATE_FORMAT = 1
# Written by ctsite itself after a build (the pinned digest, this state): never image inputs.
NOT_INPUTS = ("Dockerrun.aws.json", STATE_DIR)


def state_path(root: Path) -> Path:
    return root / STATE_DIR / STATE_FILE


def read_state(root: Path) -> dict[str, Any]:
    """The recorded state ({} when there is none or it is unreadable: everything then runs)."""
    try:
        doc = json.loads(state_path(root).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(doc, dict) or doc.get("format") != STATE_FORMAT:
        return {}
    return doc


def write_state(root: Path, section: str, values: dict[str, Any]) -> None:
    """Replace one section ("image" or "deploy") of the state file, atomically."""
    path = state_path(root)
    doc = read_state(root) or {"format": STATE_FORMAT}
    doc[section] = values
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(doc, handle, indent=1, sort_keys=True)
                handle.write("\n")
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise CtsiteError(
            f"cannot write the release state {path}: {exc.strerror or exc}",
            hint="check that the project folder is writable",
        ) from None


def _dockerignore(context: Path) -> list[str]:
    path = context / ".dockerignore"
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def context_files(context: Path, dockerfile: str = "Dockerfile") -> list[str]:
    """The relative paths of the regular files Docker sends as the build context, sorted."""
    from docker.utils.build import exclude_paths

    if not context.is_dir():
        raise CtsiteError(f"build context {context} is not a folder", hint="check the project root")
    included = exclude_paths(str(context), _dockerignore(context), dockerfile=dockerfile)
    return sorted(
        p
        for p in included
        if (context / p).is_file()
        and not (context / p).is_symlink()
        and p.split("/", 1)[0] not in NOT_INPUTS
    )


def context_hash(context: Path, extra: dict[str, str], dockerfile: str = "Dockerfile") -> str:
    """SHA-256 over the build context's files (path, executable bit, content) and `extra`."""
    digest = hashlib.sha256()
    digest.update(json.dumps(extra, sort_keys=True).encode())
    for rel in context_files(context, dockerfile):
        path = context / rel
        executable = os.access(path, os.X_OK)
        digest.update(f"\0{rel}\0{int(executable)}\0".encode())
        file_digest = hashlib.sha256()
        with path.open("rb") as handle:
            while block := handle.read(1 << 20):
                file_digest.update(block)
        digest.update(file_digest.digest())
    return digest.hexdigest()


def image_inputs_hash(context: Path, image_name: str, platform: str) -> str:
    """The hash a release compares to decide build-push: the build context `context` (with the
    default Dockerfile) and the settings that change the image."""
    extra = {"image_name": image_name, "platform": platform, "dockerfile": DOCKERFILE}
    return context_hash(context, extra, DOCKERFILE)


def record_image(root: Path, repository: str, inputs_hash: str, digest: str) -> None:
    """Remember a push (from `build-push` or a release): image inputs `inputs_hash` are in
    `repository` as `digest`, so the next release skips build-push until they change."""
    write_state(
        root, "image", {"repository": repository, "context_hash": inputs_hash, "digest": digest}
    )


def record_deploy(root: Path, label: str, bundle_sha256: str, digest: str | None) -> None:
    """Remember a deployment that became healthy (from `deploy` or a release): version `label`
    of the source bundle `bundle_sha256`, naming the image `digest` (None: not pinned)."""
    write_state(root, "deploy", {"label": label, "bundle_sha256": bundle_sha256, "digest": digest})
