"""Fixtures for the release/chores tests: a moto server, fake AWS credentials, a temp project,
and a client factory whose Elastic Beanstalk and ECR Public clients are real boto3 clients under
botocore's Stubber (moto implements neither) while S3, SNS, ECR, IAM, EFS and Transfer talk to
moto."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from reltest import REGION, free_port, write_project


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        pytest.skip("moto[server] not installed")
    port = free_port()
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
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    return moto_endpoint


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = write_project(tmp_path / "project")
    monkeypatch.chdir(root)
    return root


class Stubs:
    """Stubbed EB and ECR Public clients plus moto-backed clients for every other service."""

    def __init__(self) -> None:
        import boto3
        from botocore.stub import Stubber

        self.eb = Stubber(boto3.client("elasticbeanstalk", region_name=REGION))
        self.ecr_public = Stubber(boto3.client("ecr-public", region_name="us-east-1"))
        self.eb.activate()
        self.ecr_public.activate()
        self.cache: dict[tuple[str, str], Any] = {
            ("elasticbeanstalk", REGION): self.eb.client,
            ("ecr-public", "us-east-1"): self.ecr_public.client,
        }

    def __call__(self, service: str, region: str | None = None) -> Any:
        import boto3

        key = (service, region or REGION)
        if key not in self.cache:
            self.cache[key] = boto3.client(service, region_name=key[1])
        return self.cache[key]

    def assert_done(self) -> None:
        self.eb.assert_no_pending_responses()
        self.ecr_public.assert_no_pending_responses()


@pytest.fixture
def stubs(aws_env: str) -> Iterator[Stubs]:
    made = Stubs()
    yield made
    made.eb.deactivate()
    made.ecr_public.deactivate()
