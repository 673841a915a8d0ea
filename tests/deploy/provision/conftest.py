"""Fixtures for the provision tests: the shared moto server (tests/conftest.py's aws_env), a
project folder with a ctsite.toml, and a client factory — real boto3 clients on moto, with
optional botocore Stubbers for the Elastic Beanstalk APIs moto lacks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REGION = "us-east-2"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "ctsite.toml").write_text(
        '[provision]\nnotification_email = "lab@example.org"\n'
        'solution_stack = ""\n[aws]\nregion = "us-east-2"\n'
    )
    monkeypatch.chdir(root)
    return root


class Clients:
    """service → client: moto-backed boto3 clients; `stub(service)` swaps in a Stubber."""

    def __init__(self) -> None:
        self.cache: dict[tuple[str, str], Any] = {}
        self.stubbers: list[Any] = []

    def __call__(self, service: str, region: str | None = None) -> Any:
        import boto3

        key = (service, region or REGION)
        if key not in self.cache:
            self.cache[key] = boto3.client(service, region_name=key[1])
        return self.cache[key]

    def stub(self, service: str) -> Any:
        import boto3
        from botocore.stub import Stubber

        stubber = Stubber(boto3.client(service, region_name=REGION))
        stubber.activate()
        self.cache[service, REGION] = stubber.client
        self.stubbers.append(stubber)
        return stubber


@pytest.fixture
def clients(aws_env: str) -> Iterator[Clients]:
    made = Clients()
    yield made
    for stubber in made.stubbers:
        stubber.assert_no_pending_responses()
        stubber.deactivate()


@pytest.fixture(scope="session")
def export_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`ctsite export-site` of the demo store (the static site's plan prices its views)."""
    from functools import partial

    from ctsite.compile.demo import ensure_demo_store
    from ctsite.config import load_settings
    from ctsite.deploy.static_site.export_site import export_site
    from ctsite.web.snapshot import AppSnapshot

    root = tmp_path_factory.mktemp("export")
    store = ensure_demo_store(root / "demo")
    source = partial(AppSnapshot, load_settings(root=root, environ={}, overrides={}))
    export_site(root / "site", store, source)
    return root / "site"
