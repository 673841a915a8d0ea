"""Fixtures for the Elastic Beanstalk area: a moto server, fake AWS credentials, a temp project,
and real boto3 clients (Elastic Beanstalk ones wrapped in botocore's Stubber, which validates
every request and response against the service model)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ebtest import REGION, free_port, make_project


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A real moto server on a free loopback port for the whole session."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws_env(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """Fake credentials + AWS_ENDPOINT_URL → moto, a clean moto state, no CTSITE_* leaking in."""
    import requests

    requests.post(f"{moto_endpoint}/moto-api/reset", timeout=10).raise_for_status()
    for name in list(os.environ):
        if name.startswith(("CTSITE_", "AWS_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    return moto_endpoint


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temp project (cwd) with the EB files and ctsite.toml, plus unrelated files to ignore."""
    root = make_project(tmp_path / "project")
    (root / "data" / "compiled").mkdir(parents=True)
    (root / "data" / "compiled" / "manifest.json").write_text('{"schema_version": 1}')
    (root / "src").mkdir()
    (root / "src" / "app.py").write_text("print('not in the bundle')\n")
    (root / "README.md").write_text("# not in the bundle\n")
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def eb_stub(aws_env: str) -> Iterator[Any]:
    """A real Elastic Beanstalk client (pointed at moto) wrapped in a botocore Stubber."""
    import boto3
    from botocore.stub import Stubber

    client = boto3.client("elasticbeanstalk", region_name=REGION)
    with Stubber(client) as stubber:
        yield stubber
    stubber.assert_no_pending_responses()


@pytest.fixture
def client_factory(aws_env: str, eb_stub: Any) -> Any:
    """service → client: the stubbed EB client, real moto-backed clients for everything else."""
    import boto3

    cache: dict[tuple[str, str], Any] = {("elasticbeanstalk", REGION): eb_stub.client}

    def make(service: str, region: str | None = None) -> Any:
        key = (service, region or REGION)
        if key not in cache:
            cache[key] = boto3.client(service, region_name=key[1])
        return cache[key]

    return make
