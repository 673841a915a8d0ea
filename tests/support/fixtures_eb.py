"""Fixtures for the Elastic Beanstalk tests (registered in tests/conftest.py): a moto server,
fake AWS credentials, a temp project, and real boto3 clients (Elastic Beanstalk ones wrapped in botocore's Stubber, which validates
every request and response against the service model)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.ebtest import REGION, make_project


@pytest.fixture
def eb_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
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


@pytest.fixture
def moto_clients(aws_env: str) -> Any:
    """A client factory of real boto3 clients on moto, one per (service, region)."""
    import boto3

    cache: dict[tuple[str, str], Any] = {}

    def make(service: str, region: str | None = None, max_attempts: int | None = None) -> Any:
        key = (service, region or REGION)
        if key not in cache:
            cache[key] = boto3.client(service, region_name=key[1])
        return cache[key]

    return make
