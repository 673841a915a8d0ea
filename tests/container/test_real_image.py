"""The real project image: built from the repository's Dockerfile on a debootstrapped base (no
image can be pulled here), run on the demo compiled store, checked through the published port;
its packages checked against requirements/web.lock; and `ctsite docker-run` on the same image.
Prints the image size."""

from __future__ import annotations

import hashlib
import json
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from ctsite import __version__
from ctsite.store import versions
from tests.support.cli import cli_env, run_ctsite, start_ctsite
from tests.support.fixtures_docker import BASE_IMAGE_SECONDS, budget
from tests.support.locks import REQUIREMENTS, read_lock

BUILD_SECONDS = 900  # `ctsite build-push` of the real image (pip installs during the build)
DEMO_SECONDS = 300  # `ctsite demo`: the demo store compiled
# the first test builds the base image, the real image and the demo store (session fixtures)
pytestmark = [
    pytest.mark.docker,
    pytest.mark.slow,
    budget(BASE_IMAGE_SECONDS, BUILD_SECONDS, DEMO_SECONDS),
]

PROJECT = Path(__file__).resolve().parents[2]
IMAGE_NAME = "ctsite-test-real"
REPOSITORY = f"127.0.0.1:9/{IMAGE_NAME}"  # never pushed
SIZE_LIMIT = 400_000_000  # the target: < 400 MB uncompressed
NOT_IN_RUNTIME = ("anndata", "h5py", "scipy", "boto3", "botocore", "paramiko", "docker", "pip")


def env(**extra: str) -> dict[str, str]:
    """The environment of a ctsite subprocess here: no CTSITE_* variable of the caller."""
    return cli_env(without=("CTSITE_",), COLUMNS="200", PYTHONUNBUFFERED="1", **extra)


@pytest.fixture(scope="session")
def real_image(docker_engine, base_image) -> str:
    """`ctsite build-push --no-push --prune` of the repository, BASE_IMAGE = the local base.

    Tags left by earlier runs are removed first, so --prune also clears those runs' images
    while keeping the cache this build uses (re-runs stay fast, the disk stays bounded).
    """
    for image in docker_engine.images.list(name=REPOSITORY):
        for ref in image.tags:
            if ref.startswith(REPOSITORY + ":"):
                docker_engine.images.remove(ref)
    result = run_ctsite(
        *("build-push", "--no-push", "--quiet", "--prune", "--context", str(PROJECT)),
        *("--build-arg", f"BASE_IMAGE={base_image}", "--network", "host"),
        cwd=PROJECT,
        env=env(CTSITE_IMAGE_NAME=IMAGE_NAME, CTSITE_IMAGE_REPOSITORY=REPOSITORY),
        timeout=BUILD_SECONDS,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return f"{IMAGE_NAME}:latest"


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory) -> Path:
    """The demo dataset compiled by ctsite: DIR/compiled is the store, DIR the data volume."""
    data = tmp_path_factory.mktemp("demo-data")
    result = run_ctsite("demo", str(data), cwd=data, env=env(), timeout=DEMO_SECONDS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert versions.manifest_path(data / "compiled").is_file()
    for path in data.rglob("*"):  # the container runs as uid 10001
        path.chmod(0o755 if path.is_dir() else 0o644)
    data.chmod(0o755)
    return data


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float = 90) -> requests.Response:
    deadline = time.monotonic() + timeout
    while True:
        try:
            response = requests.get(url, timeout=5)
            if response.status_code == 200:
                return response
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} did not answer 200 within {timeout} s")
        time.sleep(0.5)


def test_real_image_serves_the_demo_store(docker_engine, real_image, demo_data):
    image = docker_engine.images.get(real_image)
    size = int(image.attrs["Size"])
    print(f"\nreal image {real_image}: {size / 1e6:.1f} MB uncompressed")
    assert size < SIZE_LIMIT, f"image is {size / 1e6:.0f} MB, target < {SIZE_LIMIT / 1e6:.0f} MB"
    config = image.attrs["Config"]
    assert config["User"] == "ctsite"
    assert "8000/tcp" in config["ExposedPorts"]
    assert "/app/data" in config["Volumes"]
    assert "/healthz" in " ".join(config["Healthcheck"]["Test"])
    assert image.labels.get("io.ctsite.managed") == "true"
    assert f"{IMAGE_NAME}:latest" in image.tags
    assert any(tag.endswith(f":{__version__}") for tag in image.tags)

    absent = docker_engine.containers.run(
        real_image,
        [
            "python3",
            "-c",
            "import importlib.util as u, json; "
            f"print(json.dumps([m for m in {list(NOT_IN_RUNTIME)!r} if u.find_spec(m)]))",
        ],
        remove=True,
    )
    assert json.loads(absent) == [], f"runtime image holds {absent!r}"

    port = free_port()
    container = docker_engine.containers.run(
        real_image,
        detach=True,
        ports={"8000/tcp": ("127.0.0.1", port)},
        volumes={str(demo_data): {"bind": "/app/data", "mode": "ro"}},
        environment={"WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "2"},
    )
    try:
        base = f"http://127.0.0.1:{port}"
        health = wait_http(f"{base}/healthz").json()
        assert health["status"] == "ok"
        home = requests.get(f"{base}/", timeout=30)
        assert home.status_code == 200 and "<html" in home.text.lower()
        figure = requests.get(f"{base}/api/figure/circos", timeout=60)
        assert figure.status_code == 200, figure.text[:500]
        plotly = figure.json().get("figure", {})
        assert plotly.get("data") and "layout" in plotly, figure.text[:300]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            container.reload()
            if container.attrs["State"].get("Health", {}).get("Status") == "healthy":
                break
            time.sleep(1)
        assert container.attrs["State"]["Health"]["Status"] == "healthy"
        logs = container.logs().decode()
        assert "Listening at: http://0.0.0.0:8000" in logs, logs[-2000:]
        assert logs.count("Booting worker") == 1, logs[-2000:]  # WEB_CONCURRENCY=1
        top = container.top(ps_args="-o pid,user,args")
        users = {row[1] for row in top["Processes"]}
        assert users <= {"ctsite", "10001"}, top  # gunicorn runs as the non-root user
        sockets = container.exec_run(["cat", "/proc/net/unix"]).output.decode()
        assert "gunicorn.ctl" not in sockets, "gunicorn opened its control socket"
    finally:
        container.remove(force=True)


def test_real_image_installs_exactly_the_lock(docker_engine, real_image):
    """Every distribution the runtime Python sees is in requirements/web.lock at its pinned
    version, and every pin is installed: name for name, version for version. Nothing is set
    aside but ctsite itself (its package folder on PYTHONPATH from /opt/ctsite, this checkout's
    version): the
    runtime virtualenv is made --without-pip, so it has no pip, setuptools or wheel."""
    from packaging.utils import canonicalize_name

    script = (
        "import importlib.metadata as m, json; "
        "print(json.dumps([[d.metadata['Name'], d.version] for d in m.distributions()]))"
    )
    found = json.loads(
        docker_engine.containers.run(real_image, ["python3", "-c", script], remove=True)
    )
    installed: dict[str, str] = {}
    for name, version in found:
        key = canonicalize_name(name)
        assert installed.setdefault(key, version) == version, f"{key} installed twice"
    # ctsite is the package folder copied to /opt/ctsite (no distribution metadata)
    assert "ctsite" not in installed
    # (a whole line: the log driver writes a line as it ends; a stream cut mid-line could be
    # read back empty by a logs call racing the container's exit on a busy engine)
    version = "import ctsite; print(ctsite.__version__)"
    ran = docker_engine.containers.run(real_image, ["python3", "-c", version], remove=True)
    assert ran.decode().strip() == __version__
    locked = {name: pin.version for name, pin in read_lock(REQUIREMENTS / "web.lock").items()}
    assert installed == locked


def test_docker_run_command(docker_engine, real_image, demo_data):
    port = free_port()
    proc = start_ctsite(
        *("docker-run", "--image", real_image, "--data", str(demo_data), "--port", str(port)),
        cwd=demo_data,
        env=env(),
    )
    try:
        line = ""
        deadline = time.monotonic() + 120
        while "site running at" not in line:
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "no URL printed"
            ready, _, _ = select.select([proc.stdout], [], [], 1)
            if ready:
                line = proc.stdout.readline()
        url = line.split("site running at", 1)[1].split()[0]
        assert url == f"http://127.0.0.1:{port}/"
        assert requests.get(f"{url}api/figure/circos", timeout=60).status_code == 200
        named = {"name": f"ctsite-run-{port}"}
        assert len(docker_engine.containers.list(filters=named)) == 1
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert "stopped" in err
        assert docker_engine.containers.list(all=True, filters=named) == []
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for container in docker_engine.containers.list(
            all=True, filters={"name": f"ctsite-run-{port}"}
        ):
            container.remove(force=True)


def test_docker_run_errors(docker_engine, tmp_path):
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return run_ctsite("docker-run", *args, cwd=tmp_path, env=env(), timeout=120)

    (tmp_path / "data" / "compiled").mkdir(parents=True)
    result = run("--image", "ctsite-test-no-such-image:latest", "--data", str(tmp_path / "data"))
    assert result.returncode == 1
    assert "not found in the local Docker engine" in result.stderr
    assert "build-push --no-push" in result.stderr
    result = run("--data", str(tmp_path / "missing"))
    assert result.returncode == 1 and "data folder" in result.stderr
    assert "Traceback" not in result.stderr
    result = run("--data", str(tmp_path))
    assert result.returncode == 1 and "no compiled store at" in result.stderr
    assert "ctsite compile" in result.stderr


def test_docker_run_never_healthy_is_stopped(docker_engine, real_image, tmp_path):
    """An empty store folder: /healthz answers 503; docker-run gives up, removes the container."""
    (tmp_path / "compiled").mkdir()
    for path in (tmp_path, tmp_path / "compiled"):
        path.chmod(0o755)
    port = free_port()
    args = ["--image", real_image, "--data", str(tmp_path), "--port", str(port)]
    result = run_ctsite(
        "docker-run", *args, "--timeout", "10", cwd=tmp_path, env=env(), timeout=120
    )
    assert result.returncode == 1
    assert "did not become healthy within 10 s (HTTP 503)" in result.stderr
    assert "Traceback" not in result.stderr
    named = {"name": f"ctsite-run-{port}"}
    assert docker_engine.containers.list(all=True, filters=named) == []


@budget(BASE_IMAGE_SECONDS, BUILD_SECONDS, BUILD_SECONDS)
def test_build_push_from_a_lab_folder(docker_engine, base_image, real_image, tmp_path):
    """A folder outside the repository with only ctsite.toml (issue 24): `build-push` builds from
    the packaged Dockerfile and locks, and the image runs this very ctsite (same package files;
    the dependency layers come from the cache of the repository's build)."""
    lab = tmp_path / "mysite"
    (lab / "data").mkdir(parents=True)
    (lab / "ctsite.toml").write_text('[aws]\nregion = "us-east-2"\n')
    name = "ctsite-test-lab"
    result = run_ctsite(
        *("build-push", "--no-push", "--quiet"),
        *("--build-arg", f"BASE_IMAGE={base_image}", "--network", "host"),
        cwd=lab,
        env=env(CTSITE_IMAGE_NAME=name, CTSITE_IMAGE_REPOSITORY=f"127.0.0.1:9/{name}"),
        timeout=BUILD_SECONDS,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "packaged Dockerfile" in result.stdout + result.stderr
    script = (
        "import ctsite, hashlib, pathlib; "
        "p = pathlib.Path(ctsite.__file__).parent; "
        "print(ctsite.__version__, hashlib.sha256((p / 'web' / 'app.py').read_bytes()).hexdigest())"
    )
    try:
        out = docker_engine.containers.run(f"{name}:latest", ["python3", "-c", script], remove=True)
        version, app_digest = out.decode().split()
        assert version == __version__
        own = hashlib.sha256((PROJECT / "ctsite" / "web" / "app.py").read_bytes()).hexdigest()
        assert app_digest == own
    finally:
        for image in docker_engine.images.list(name=name):
            for ref in image.tags:
                docker_engine.images.remove(ref)
