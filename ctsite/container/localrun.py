"""Run the site's image locally on the local data (`ctsite docker-run`), as the runbook's
`docker run -v $(pwd)/data:/app/data -p 8000:8000 ct-site`, but checked: the image must exist,
the container must answer its health endpoint, and it is always stopped and removed at the end.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ctsite.errors import CtsiteError

CONTAINER_PORT = 8000  # the image's gunicorn port (Dockerrun.aws.json maps it too)
CONTAINER_DATA_DIR = "/app/data"  # where the image reads its data folder
HEALTH_PATH = "/healthz"
COMPILED = "compiled"  # the image reads CTSITE_COMPILED_DIR=/app/data/compiled


def container_name(port: int) -> str:
    """The name of the docker-run container serving on `port`."""
    return f"ctsite-run-{port}"


def start(client: Any, image: str, data_dir: Path, port: int, host: str = "127.0.0.1") -> Any:
    """Start the image detached, data mounted read-only on /app/data, port published on host."""
    import docker.errors

    if not data_dir.is_dir():
        raise CtsiteError(
            f"data folder {data_dir} not found",
            hint="compile the data first (`ctsite compile`) or pass --data",
        )
    if not (data_dir / COMPILED).is_dir():
        raise CtsiteError(
            f"no compiled store at {data_dir / COMPILED} (the image serves /app/data/{COMPILED})",
            hint="run `ctsite compile` (or `ctsite demo`) first, or pass --data",
        )
    try:
        client.images.get(image)
    except docker.errors.ImageNotFound:
        raise CtsiteError(
            f"image {image} not found in the local Docker engine",
            hint="build it first: `ctsite build-push --no-push`",
        ) from None
    try:
        return client.containers.run(
            image,
            name=container_name(port),
            detach=True,
            ports={f"{CONTAINER_PORT}/tcp": (host, port)},
            volumes={str(data_dir.resolve()): {"bind": CONTAINER_DATA_DIR, "mode": "ro"}},
            labels={"io.ctsite.managed": "true"},
        )
    except docker.errors.APIError as exc:
        text = " ".join(str(exc.explanation or exc).split())
        hint = "check the image and the data folder"
        if "already in use by container" in text:
            hint = f"a container of an earlier run is left: `docker rm -f {container_name(port)}`"
        elif "allocated" in text or "address already in use" in text:
            hint = f"port {port} is in use; pass another one with --port"
        raise CtsiteError(f"could not start {image}: {text}", hint=hint) from None


def wait_healthy(container: Any, url: str, timeout: float = 90.0) -> None:
    """Poll the health endpoint until it answers 200; fail early if the container stops."""
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while time.monotonic() < deadline:
        container.reload()
        if container.status not in {"created", "running"}:
            raise CtsiteError(
                f"the container stopped ({container.status}) before it was healthy; "
                f"its last output: {tail_logs(container)}",
                hint="fix the error above; is the compiled store in the data folder?",
            )
        try:
            with urllib.request.urlopen(url + HEALTH_PATH, timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
                last = f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            last = str(getattr(exc, "reason", exc))
        time.sleep(0.5)
    raise CtsiteError(
        f"the site did not become healthy within {timeout:.0f} s ({last}); "
        f"its last output: {tail_logs(container)}",
        hint="look at the container output above; raise --timeout if the data is large",
    )


def follow_logs(container: Any, on_line: Callable[[str], None]) -> int:
    """Pass the container's output on until it stops; return its exit code."""
    for chunk in container.logs(stream=True, follow=True):
        on_line(chunk.decode("utf-8", "replace"))
    return int(container.wait().get("StatusCode", 0))


def stop(container: Any, timeout: int = 10) -> None:
    """Stop and remove the container; quietly done if it is already gone."""
    import docker.errors

    for action in (lambda: container.stop(timeout=timeout), lambda: container.remove(force=True)):
        try:
            action()
        except docker.errors.NotFound:
            return
        except docker.errors.APIError:
            continue


def tail_logs(container: Any, lines: int = 15) -> str:
    """The container's last output lines joined with ' | ' (for one-line errors)."""
    try:
        text = container.logs(tail=lines).decode("utf-8", "replace")
    except Exception:  # the container may already be gone
        return "(no output)"
    return " | ".join(line.strip() for line in text.splitlines() if line.strip()) or "(no output)"
