"""Fixtures of the container tests (registered in tests/conftest.py): a real Docker engine, a real registry with htpasswd auth, a
locally made base image, and throw-away ctsite projects that build tiny images.

Everything is started and stopped here (free loopback ports, temp dirs), so plain
`python -m pytest tests/container` works as root on a machine with docker.io, docker-registry,
apache2-utils and debootstrap installed; a test whose tool is missing is skipped with the reason.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.cli import cli_env, run_ctsite
from tests.support.components import unavailable

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parents[1]
BASE_IMAGE = "ctsite-test-base:bookworm"
BASE_CACHE = Path(os.environ.get("CTSITE_TEST_BASE_CACHE", "/var/tmp/ctsite-test-base"))

# Time budgets (seconds) of the slow steps the Docker tests wrap. pytest-timeout counts a test's
# fixtures too, so the first test to ask for the engine or the base image pays for them: each
# Docker test module takes its `timeout` mark from `budget(...)` of what its tests run, so the
# step's own timeout (with its clear message) always fires first. pyproject.toml's global 600 s
# is for every other test.
ENGINE_SECONDS = 60  # dockerd started by the docker_engine fixture
BASE_IMAGE_SECONDS = 900  # debootstrap + docker import of the base image (cached after)
PROJECT_RUN_SECONDS = 600  # one `ctsite build-push` of a throw-away Project (its limit before)
SDK_SECONDS = 600  # one Docker SDK call (docker_engine's client timeout)
TEST_SECONDS = 300  # what the test itself does besides the budgeted steps


def budget(*steps: float) -> pytest.MarkDecorator:
    """The timeout mark of a test that may start the engine and then runs `steps` (seconds)."""
    return pytest.mark.timeout(ENGINE_SECONDS + sum(steps) + TEST_SECONDS)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.2)
    return False


def _engine_up() -> bool:
    try:
        import docker

        docker.from_env(timeout=10).ping()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def docker_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A Docker SDK client; dockerd is started (and stopped at the end) if none is running."""
    import docker

    process = None
    if not _engine_up():
        if os.environ.get("DOCKER_HOST"):
            unavailable(f"DOCKER_HOST={os.environ['DOCKER_HOST']} does not answer")
        if shutil.which("dockerd") is None:
            unavailable("no Docker engine running and dockerd not installed (apt docker.io)")
        if os.geteuid() != 0:
            unavailable("no Docker engine running and not root: cannot start dockerd")
        log = tmp_path_factory.mktemp("dockerd") / "dockerd.log"
        handle = log.open("wb")
        process = subprocess.Popen(["dockerd"], stdout=handle, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + ENGINE_SECONDS
        while not _engine_up():  # another test run may be starting one at the same moment
            if time.monotonic() > deadline:
                process.kill()
                unavailable(f"dockerd could not be started: {log.read_text()[-800:]}")
            time.sleep(0.5)
        if process.poll() is not None:
            process = None  # ours exited: the engine that answers is another run's
    client = docker.from_env(timeout=SDK_SECONDS)
    yield client
    client.close()
    if process is not None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


@dataclass(frozen=True)
class Registry:
    """A docker-registry on a loopback port; users AWS and tester, both with passwords."""

    host: str
    users: dict[str, str]

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def tags(self, name: str) -> list[str]:
        import requests

        r = requests.get(f"{self.url}/v2/{name}/tags/list", auth=("tester", self.users["tester"]))
        r.raise_for_status()
        return sorted(r.json().get("tags") or [])

    def digest(self, name: str, tag: str) -> str:
        import requests

        accept = ", ".join(
            [
                "application/vnd.docker.distribution.manifest.v2+json",
                "application/vnd.oci.image.manifest.v1+json",
            ]
        )
        r = requests.head(
            f"{self.url}/v2/{name}/manifests/{tag}",
            auth=("tester", self.users["tester"]),
            headers={"Accept": accept},
        )
        r.raise_for_status()
        return r.headers["Docker-Content-Digest"]


@pytest.fixture(scope="session")
def registry(docker_engine: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """The CNCF distribution registry with htpasswd auth on a free loopback port."""
    for tool in ("docker-registry", "htpasswd"):
        if shutil.which(tool) is None:
            unavailable(f"{tool} not installed (apt docker-registry apache2-utils)")
    root = tmp_path_factory.mktemp("registry")
    users = {"AWS": uuid.uuid4().hex, "tester": uuid.uuid4().hex}
    lines = [
        subprocess.run(
            ["htpasswd", "-Bbn", user, password], capture_output=True, text=True, check=True
        ).stdout.strip()
        for user, password in users.items()
    ]
    (root / "htpasswd").write_text("\n".join(lines) + "\n")
    port = free_port()
    (root / "config.yml").write_text(
        f"""version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: {root / "storage"}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
auth:
  htpasswd:
    realm: ctsite-test
    path: {root / "htpasswd"}
"""
    )
    log = (root / "registry.log").open("wb")
    process = subprocess.Popen(
        ["docker-registry", "serve", str(root / "config.yml")], stdout=log, stderr=log
    )
    try:
        if not wait_port(port):
            unavailable(f"docker-registry did not start: {(root / 'registry.log').read_text()}")
        yield Registry(host=f"127.0.0.1:{port}", users=users)
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="session")
def base_image(docker_engine: object) -> str:
    """A Debian bookworm + python3 base image made with debootstrap (cached rootfs tarball)."""
    if shutil.which("debootstrap") is None and not (BASE_CACHE / "rootfs-bookworm.tar").exists():
        unavailable("debootstrap not installed (apt debootstrap): cannot make a base image")
    result = subprocess.run(
        ["sh", str(HERE / "make_base_image.sh"), BASE_IMAGE, str(BASE_CACHE)],
        capture_output=True,
        text=True,
        timeout=BASE_IMAGE_SECONDS,
    )
    if result.returncode != 0:
        unavailable(f"could not make the base image: {(result.stdout + result.stderr)[-800:]}")
    return BASE_IMAGE


@dataclass
class Project:
    """A throw-away ctsite project: ctsite.toml, a git checkout, a tiny Dockerfile."""

    root: Path
    repository: str
    name: str
    image_name: str
    env: dict[str, str]

    def run(
        self, *args: str, timeout: float = PROJECT_RUN_SECONDS, **env: str
    ) -> subprocess.CompletedProcess[str]:
        """`python -m ctsite ARGS` in the project, with extra environment variables."""
        return run_ctsite(*args, cwd=self.root, env={**self.env, **env}, timeout=timeout)

    def docker_login(self, host: str, user: str, password: str) -> None:
        """Write the user's docker credentials (a DOCKER_CONFIG of this project only)."""
        auth = base64.b64encode(f"{user}:{password}".encode()).decode()
        config = Path(self.env["DOCKER_CONFIG"]) / "config.json"
        config.write_text(json.dumps({"auths": {host: {"auth": auth}}}))


def _git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(root), *args],
        check=True,
        capture_output=True,
        env={
            **os.environ,
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@t",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@t",
        },
    )


@pytest.fixture
def image_project(
    tmp_path: Path, registry: Registry, docker_engine: object, request: pytest.FixtureRequest
) -> Iterator[Project]:
    """A project whose image_repository is on the test registry; removes its images after."""
    suffix = uuid.uuid4().hex[:8]
    name = f"ctsite-test/{request.node.name.lower().replace('_', '-')[:40]}-{suffix}"
    repository = f"{registry.host}/{name}"
    image_name = f"ctsite-test-{suffix}"
    (tmp_path / "ctsite.toml").write_text(
        f'[image]\nrepository = "{repository}"\nname = "{image_name}"\n'
    )
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY hello.txt /hello.txt\n")
    (tmp_path / "hello.txt").write_text(f"hello {suffix}\n")
    (tmp_path / ".gitignore").write_text("Dockerrun.aws.json\n.docker-config/\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "init")
    docker_config = tmp_path / ".docker-config"
    docker_config.mkdir()
    env = cli_env(
        without=("CTSITE_", "AWS_", "DOCKER_"),
        DOCKER_CONFIG=str(docker_config),
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ENDPOINT_URL="http://127.0.0.1:9",
        COLUMNS="200",
        PYTHONUNBUFFERED="1",
    )
    if os.environ.get("DOCKER_HOST"):
        env["DOCKER_HOST"] = os.environ["DOCKER_HOST"]
    yield Project(tmp_path, repository, name, image_name, env)
    client = docker_engine
    for image in client.images.list():  # type: ignore[attr-defined]
        for ref in image.tags:
            if suffix in ref:
                try:
                    client.images.remove(ref, force=True)  # type: ignore[attr-defined]
                except Exception:
                    pass
