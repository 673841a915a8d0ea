"""Build, tag, push and prune ctsite's Docker image with the Docker SDK (no `docker` CLI needed).

Library code: reports output and progress through callbacks, raises `CtsiteError` on failure
(engine unreachable, build step failed — with that step's output —, registry unreachable or
refusing the credentials). Every image ctsite builds carries the labels `io.ctsite.managed=true`
and `io.ctsite.image=<image_name>` (a Dockerfile that declares `ARG CTSITE_IMAGE` also labels its
build stages with it): `prune` removes only dangling images with both, leaving the user's other
Docker data — and other ctsite projects' build cache — alone.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from ctsite.container.registry import RegistryAuth, split_repository
from ctsite.errors import CtsiteError
from ctsite.gitinfo import short_commit

MANAGED_LABEL = "io.ctsite.managed"
IMAGE_LABEL = "io.ctsite.image"
IMAGE_ARG = "CTSITE_IMAGE"
_TAG_INVALID = re.compile(r"[^A-Za-z0-9_.-]")
_DIGEST = re.compile(r"digest: (sha256:[0-9a-f]{64})")

ENGINE_HINT = (
    "start Docker (Docker Desktop on a laptop; `sudo systemctl start docker` or `sudo dockerd &` "
    "on Linux) or point DOCKER_HOST at a running engine"
)


@dataclasses.dataclass(frozen=True)
class PruneResult:
    images: int
    bytes: int


def engine(timeout: int = 600) -> Any:
    """A Docker SDK client for the engine of the environment (DOCKER_HOST or the local socket)."""
    import docker
    import docker.errors
    import requests

    where = os.environ.get("DOCKER_HOST") or "the local Docker socket"
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except (docker.errors.DockerException, requests.RequestException) as exc:
        raise CtsiteError(
            f"cannot reach the Docker engine at {where}: {_short(exc)}", hint=ENGINE_HINT
        ) from None
    return client


def tag_name(text: str) -> str:
    """A valid Docker tag from any text (invalid characters become '-', at most 128)."""
    return _TAG_INVALID.sub("-", text).lstrip(".-")[:128] or "unknown"


def git_tag(root: Path) -> str | None:
    """The short commit of the checkout at `root`, plus `-dirty` when it has changes."""
    commit = short_commit(root)
    return tag_name(commit) if commit else None


def image_tags(version: str, commit: str | None) -> list[str]:
    """The tags every build gets: latest, the package version and the git commit."""
    tags = ["latest", tag_name(version)]
    if commit:
        tags.append(commit)
    return list(dict.fromkeys(tags))


def build(
    client: Any,
    context: Path,
    dockerfile: str,
    tag: str,
    *,
    image_name: str,
    platform: str | None = None,
    buildargs: Mapping[str, str] | None = None,
    network_mode: str | None = None,
    pull: bool = False,
    on_output: Callable[[str], None] = lambda line: None,
) -> str:
    """Build the image from `context` and tag it `tag`; return its id. Streams output lines.

    `image_name` labels the image (and, through `ARG CTSITE_IMAGE`, its build stages) for prune.
    """
    import docker.errors
    import requests

    if not context.is_dir():
        raise CtsiteError(f"build context {context} is not a folder", hint="check --context")
    dockerfile_path = Path(dockerfile) if Path(dockerfile).is_absolute() else context / dockerfile
    if not dockerfile_path.is_file():
        raise CtsiteError(f"Dockerfile not found: {dockerfile_path}", hint="check --dockerfile")
    args = dict(buildargs or {})
    if IMAGE_ARG in dockerfile_path.read_text(encoding="utf-8", errors="replace"):
        args.setdefault(IMAGE_ARG, image_name)
    step: list[str] = []
    image_id = None
    try:
        stream = client.api.build(
            path=str(context),
            dockerfile=str(dockerfile_path.relative_to(context))
            if dockerfile_path.is_relative_to(context)
            else str(dockerfile_path),
            tag=tag,
            rm=True,
            forcerm=True,
            pull=pull,
            decode=True,
            platform=platform or None,
            buildargs=args,
            network_mode=network_mode or None,
            labels={MANAGED_LABEL: "true", IMAGE_LABEL: image_name},
        )
        for event in stream:
            if "stream" in event:
                text = str(event["stream"])
                if text.startswith("Step "):
                    step = []
                step.append(text.rstrip("\n"))
                on_output(text)
            elif "status" in event:
                on_output(str(event["status"]) + "\n")
            if "error" in event or "errorDetail" in event:
                raise _build_failed(event, step)
            aux = event.get("aux")
            if isinstance(aux, dict) and "ID" in aux:
                image_id = str(aux["ID"])
    except docker.errors.APIError as exc:
        raise CtsiteError(
            f"docker build failed: {_short(exc)}",
            hint="check the Dockerfile, --platform and the build arguments",
        ) from None
    except (docker.errors.DockerException, requests.RequestException) as exc:
        raise CtsiteError(f"docker build failed: {_short(exc)}", hint=ENGINE_HINT) from None
    if image_id is None:
        image_id = client.images.get(tag).id
    return image_id


class BuildError(CtsiteError):
    """A build step failed; `step_output` holds that step's lines (shown by the CLI)."""

    def __init__(self, message: str, hint: str, step_output: list[str]):
        super().__init__(message, hint)
        self.step_output = step_output


def _build_failed(event: Mapping[str, Any], step: list[str]) -> BuildError:
    detail = event.get("errorDetail") or {}
    message = str(event.get("error") or detail.get("message") or "unknown error").strip()
    where = step[0] if step else "the build"
    return BuildError(
        f"docker build failed at {where.strip()}: {message}",
        hint="the output of the failing step is shown above; fix it and build again",
        step_output=step,
    )


def tag(client: Any, image_id: str, repository: str, tags: Iterable[str]) -> list[str]:
    """Tag the image as repository:tag for every tag; return the full references."""
    refs = []
    for name in tags:
        client.api.tag(image_id, repository, name, force=True)
        refs.append(f"{repository}:{name}")
    return refs


def login(client: Any, auth: RegistryAuth) -> None:
    """Check the credentials with the registry (kept in the SDK client's memory only)."""
    import docker.errors
    import requests

    try:
        client.login(
            username=auth.username, password=auth.password, registry=auth.registry, reauth=True
        )
    except (docker.errors.DockerException, requests.RequestException) as exc:
        text = _short(exc)
        refused = any(w in text.lower() for w in ("401", "unauthorized", "denied", "incorrect"))
        raise CtsiteError(
            f"login to {auth.registry} failed: {text}",
            hint="the registry refused the credentials; check the AWS identity's ECR permissions"
            if refused
            else "check that the registry host is right and reachable",
        ) from None


def push(
    client: Any,
    repository: str,
    tag_: str,
    auth: RegistryAuth | None = None,
    on_progress: Callable[[int, int], None] = lambda done, total: None,
) -> str:
    """Push repository:tag; report (bytes done, bytes total); return the manifest digest."""
    import docker.errors
    import requests

    layers: dict[str, tuple[int, int]] = {}
    digest = None
    host, _ = split_repository(repository)
    try:
        stream = client.api.push(
            repository,
            tag=tag_,
            stream=True,
            decode=True,
            auth_config=auth.auth_config() if auth else None,
        )
        for event in stream:
            if "error" in event or "errorDetail" in event:
                raise _push_failed(host, repository, tag_, event)
            status = str(event.get("status", ""))
            layer = event.get("id")
            detail = event.get("progressDetail") or {}
            if layer and detail.get("total"):
                layers[layer] = (int(detail.get("current", 0)), int(detail["total"]))
            elif layer in layers and status == "Pushed":
                layers[layer] = (layers[layer][1], layers[layer][1])
            if layers:
                on_progress(sum(d for d, _ in layers.values()), sum(t for _, t in layers.values()))
            aux = event.get("aux")
            if isinstance(aux, dict) and aux.get("Digest"):
                digest = str(aux["Digest"])
            elif match := _DIGEST.search(status):
                digest = match.group(1)
    except docker.errors.APIError as exc:
        raise _push_failed(host, repository, tag_, {"error": _short(exc)}) from None
    except (docker.errors.DockerException, requests.RequestException) as exc:
        raise CtsiteError(
            f"push of {repository}:{tag_} failed: {_short(exc)}", ENGINE_HINT
        ) from None
    if digest is None:
        raise CtsiteError(
            f"push of {repository}:{tag_} finished without a digest",
            hint="check the registry's logs; the push may be incomplete",
        )
    return digest


def _push_failed(host: str, repository: str, tag_: str, event: Mapping[str, Any]) -> CtsiteError:
    detail = event.get("errorDetail") or {}
    message = str(event.get("error") or detail.get("message") or "unknown error").strip()
    low = message.lower()
    if any(w in low for w in ("unauthorized", "authentication required", "denied", "401")):
        hint = (
            f"the registry {host} refused the credentials: run `docker login {host}` "
            "(or check the AWS identity's ECR permissions) and push again"
        )
    elif any(w in low for w in ("connection refused", "no such host", "timeout", "dial tcp")):
        hint = f"the registry {host} is unreachable: check image_repository and the network"
    else:
        hint = f"check image_repository ({repository}) and the registry {host}"
    return CtsiteError(f"push of {repository}:{tag_} failed: {message}", hint=hint)


def prune(client: Any, image_name: str, before: float | None = None) -> PruneResult:
    """Remove the dangling images (and their build-cache layers) of ctsite's `image_name` only.

    With `before` (a Unix time), only images created before it go: `build-push --prune` passes
    its build's start, so the cache the new build just used stays and the next build is fast.
    """
    import docker.errors

    labels = [f"{MANAGED_LABEL}=true", f"{IMAGE_LABEL}={image_name}"]
    filters: dict[str, Any] = {"dangling": True, "label": labels}
    if before is not None:
        filters["until"] = f"{before:.6f}"
    try:
        result = client.images.prune(filters=filters)
    except docker.errors.APIError as exc:
        raise CtsiteError(f"prune failed: {_short(exc)}", hint="retry in a moment") from None
    deleted = [d for d in (result.get("ImagesDeleted") or []) if d.get("Deleted")]
    return PruneResult(images=len(deleted), bytes=int(result.get("SpaceReclaimed") or 0))


def image_size(client: Any, reference: str) -> int:
    """Uncompressed size in bytes of a local image."""
    return int(client.images.get(reference).attrs.get("Size", 0))


def _short(exc: BaseException) -> str:
    """One line from a docker SDK exception (its explanation when there is one)."""
    text = str(getattr(exc, "explanation", None) or exc)
    return " ".join(text.split())
