"""Shared test fixtures. Fixtures several test folders use live in tests/support/ (registered
here as plugins; pytest only accepts pytest_plugins in this top conftest); fixtures one folder
uses stay in its own conftest.py."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests.support.aws_guard import Guard, install
from tests.support.components import unavailable

pytest_plugins = [
    "tests.support.datasets",  # small_dataset, deg_writer: hand-made compile inputs
    "tests.support.fixtures_eb",  # eb_project, eb_stub, client_factory, moto_clients
    "tests.support.fixtures_release",  # release_project, stubs
    "tests.support.fixtures_sftp",  # sshd, moto_aws, transfer_servers, transfer_to_sshd, ...
    "tests.support.fixtures_docker",  # docker_engine, registry, base_image, image_project
]

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(scope="session", autouse=True)
def aws_guard_installed() -> Iterator[Guard]:
    """Every botocore client of the session refuses calls made by ctsite code outside
    ctsite/aws/ (tests/support/aws_guard.py)."""
    guard = Guard()
    uninstall = install(guard)
    try:
        yield guard
    finally:
        uninstall()


@pytest.fixture(autouse=True)
def aws_guard(aws_guard_installed: Guard) -> Iterator[Guard]:
    """Fails the test when ctsite code outside ctsite/aws/ made an AWS call during it, even
    one whose error the code under test swallowed. A test of the guard itself empties
    `violations` once it has checked them."""
    aws_guard_installed.violations.clear()
    yield aws_guard_installed
    found, aws_guard_installed.violations[:] = list(aws_guard_installed.violations), []
    if found:
        pytest.fail("AWS calls outside ctsite/aws/:\n" + "\n".join(found), pytrace=False)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The read-only ../shared folder beside the project (specs and real data)."""
    if not SHARED.is_dir():
        unavailable(f"../shared not found at {SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def real_interactions(shared_dir: Path) -> Path:
    return shared_dir / "data" / "interactions_mm10.tsv"


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A real moto server (AWS APIs) on a free loopback port, shared by the whole session."""
    import socket

    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        unavailable("moto[server] not installed (pip install 'moto[server]')")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws_env(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """Fake credentials, AWS_ENDPOINT_URL → moto with a clean state, no CTSITE_* leaking in."""
    import requests

    requests.post(f"{moto_endpoint}/moto-api/reset", timeout=10).raise_for_status()
    for name in list(os.environ):
        if name.startswith(("CTSITE_", "AWS_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-2")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    return moto_endpoint


# Hypothesis draws the same examples on every run (derandomize), so a CI run never fails on an
# example no earlier run saw; HYPOTHESIS_PROFILE=explore searches afresh (and longer).
settings.register_profile("repeatable", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", max_examples=1000, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))
