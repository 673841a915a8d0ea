"""A release that builds and pushes the image: real dockerd and docker-registry (the container
tests' peers, `tests/support/fixtures_docker.py`), Elastic Beanstalk under Stubber.

The first release builds, pushes and pins the digest, then deploys exactly that digest; the
second finds the build context unchanged and does nothing.
"""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ctsite.cli import app
from ctsite.config import load_settings
from ctsite.deploy import dockerrun, release_state
from tests.cli.test_release import plan_rows, queue_deploy, queue_doctor_and_observe, released
from tests.support.fixtures_docker import SDK_SECONDS, budget
from tests.support.reltest import REGION

__all__ = ["released"]  # the fixture, re-used from the release CLI tests
# the release builds and pushes through the Docker SDK: two calls of up to SDK_SECONDS each
pytestmark = [pytest.mark.docker, budget(2 * SDK_SECONDS)]


@pytest.fixture
def on_registry(
    released: Path, registry: Any, docker_engine: Any, monkeypatch: pytest.MonkeyPatch
) -> Any:
    """The released project, re-pointed at a fresh repository on the test registry."""
    suffix = uuid.uuid4().hex[:8]
    name = f"ctsite-test/release-{suffix}"
    repository = f"{registry.host}/{name}"
    monkeypatch.setenv("CTSITE_IMAGE_REPOSITORY", repository)
    monkeypatch.setenv("CTSITE_IMAGE_NAME", f"ctsite-release-{suffix}")
    config = released / ".docker-config"
    config.mkdir()
    auth = base64.b64encode(f"tester:{registry.users['tester']}".encode()).decode()
    (config / "config.json").write_text(json.dumps({"auths": {registry.host: {"auth": auth}}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    dockerrun.update(load_settings(root=released))  # names repository:latest, nothing pinned
    yield name, repository
    for image in docker_engine.images.list():
        for tag in image.tags:
            if tag.startswith((repository, f"ctsite-release-{suffix}")):
                docker_engine.images.remove(tag, force=True)


def test_release_builds_pushes_pins_and_deploys_that_digest(
    on_registry: Any, registry: Any, released: Path, stubs: Any
) -> None:
    name, repository = on_registry
    queue_doctor_and_observe(stubs)
    queue_deploy(stubs, "v2")
    result = CliRunner().invoke(
        app,
        ["release", "--yes", "--label", "v2", "-m", "config change", "--poll", "0.01"],
        obj={"aws_client": stubs},
    )
    assert result.exit_code == 0, result.output
    rows = plan_rows(result.output)
    assert [k for k, v in rows.items() if v == "run"] == ["build-push", "deploy"]
    assert "image_repository changed to" in result.output
    pushed = registry.digest(name, "latest")
    state = release_state.read_state(released)
    assert state["image"]["digest"] == pushed
    assert state["image"]["repository"] == repository
    assert state["deploy"] == {
        "label": "v2",
        "bundle_sha256": state["deploy"]["bundle_sha256"],
        "digest": pushed,
    }
    doc = dockerrun.read(released / "Dockerrun.aws.json")
    assert doc["Image"]["Name"] == f"{repository}@{pushed}"
    assert "✓ build-push" in result.output and pushed[:19] in result.output
    stubs.assert_done()

    queue_doctor_and_observe(stubs, running="v2")
    result = CliRunner().invoke(app, ["release", "--yes"], obj={"aws_client": stubs})
    assert result.exit_code == 0, result.output
    assert "image inputs unchanged" in result.output and "(registry not checked)" in result.output
    assert "nothing to do" in result.output
    stubs.assert_done()
    assert REGION  # EB calls went to the configured region's stubbed client
