"""Fixtures for the release and environment-chore tests (registered in tests/conftest.py): a moto
server, fake AWS credentials, a temp project, a client factory whose Elastic Beanstalk and ECR
Public clients are real boto3 clients under botocore's Stubber (moto implements neither) while
S3, SNS, ECR, IAM, EFS and Transfer talk to moto, and a loopback HTTP server playing the
pre-signed URLs Elastic Beanstalk publishes tail logs at."""

from __future__ import annotations

import http.server
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.reltest import REGION, write_project
from tests.support.servers import handling


@pytest.fixture
def release_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
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

    def __call__(
        self, service: str, region: str | None = None, max_attempts: int | None = None
    ) -> Any:
        """A client as ctsite's factory gives it (`max_attempts`: botocore's retry budget)."""
        import boto3
        import botocore.config

        key = (service, region or REGION)
        if max_attempts is not None:
            retries = {"mode": "standard", "total_max_attempts": max_attempts}
            config = botocore.config.Config(retries=retries)  # type: ignore[arg-type]
            return boto3.client(service, region_name=key[1], config=config)
        if key not in self.cache:
            self.cache[key] = boto3.client(service, region_name=key[1])
        return self.cache[key]

    def assert_done(self) -> None:
        self.eb.assert_no_pending_responses()
        self.ecr_public.assert_no_pending_responses()


@pytest.fixture
def stubs(aws_env: str) -> Iterator[Stubs]:
    """The stubbed clients; a response a test queued but ctsite never asked for fails it."""
    made = Stubs()
    try:
        yield made
        made.assert_done()
    finally:
        made.eb.deactivate()
        made.ecr_public.deactivate()


@pytest.fixture
def http_logs() -> Iterator[dict[str, str]]:
    """A loopback HTTP server playing S3's pre-signed log URLs: path → body."""
    pages: dict[str, str] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path)
            if body is None:
                self.send_error(403, "Request has expired")
                return
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    with handling(Handler) as url:
        pages["base"] = url
        yield pages
