"""The image workflows called directly (`ctsite.deploy.image`): `images` lists, marks and prunes
a private ECR repository in moto (the running version's bundle in moto S3, Elastic Beanstalk
under botocore's Stubber); `build_push` and its options refuse bad input before any Docker or
AWS call. Building and pushing for real is tests/container/test_build_push.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

from ctsite.config import Settings, load_settings
from ctsite.deploy.image import build_push, deployed_refs, images, parse_build_args
from ctsite.errors import CtsiteError
from tests.cli.test_image import (
    ENV_QUERY,
    digest,
    digests_left,
    pin,
    push,
    queue_running_version,
    running_version,
)
from tests.support.reltest import PRIVATE_REPO, REGION
from tests.support.reporting import RecordingReporter


def settings(project: Path) -> Settings:
    return load_settings(config_file=project / "ctsite.toml")


@pytest.fixture
def repository(stubs: Any, release_project: Path) -> Any:
    """ct-site in moto's ECR: v1 runs, 2 is untagged, latest, v0 pinned in Dockerrun, v-old."""
    ecr = boto3.client("ecr", region_name=REGION)
    ecr.create_repository(repositoryName="ct-site")
    for n, tag in ((1, "v1"), (2, None), (3, "latest"), (4, "v0"), (5, "v-old")):
        push(ecr, n, tag)
    pin(release_project, f"{PRIVATE_REPO}@{digest(4)}")
    return ecr


def test_images_marks_what_dockerrun_and_the_running_version_name(
    repository: Any, stubs: Any, release_project: Path
) -> None:
    running_version(stubs, f"{PRIVATE_REPO}:v1")
    result = images(settings(release_project), stubs)
    assert result.repository == PRIVATE_REPO
    assert result.deployed_refs == [f"{PRIVATE_REPO}@{digest(4)}", f"{PRIVATE_REPO}:v1"]
    assert {i.image.digest for i in result.images if i.deployed} == {digest(1), digest(4)}
    assert len(result.images) == 5 and result.pruned == [] and result.deleted == 0
    stubs.assert_done()


def test_images_prune_deletes_only_what_was_confirmed(
    repository: Any, stubs: Any, release_project: Path
) -> None:
    s = settings(release_project)
    running_version(stubs, f"{PRIVATE_REPO}:v1")
    asked: list[list[str]] = []

    def refuse(doomed: list[Any]) -> bool:
        asked.append([image.digest for image in doomed])
        return False

    kept = images(s, stubs, prune=True, keep=0, confirm=refuse)
    # newest first: 5 before 2 unless moto stamped both pushes in the same second (then as pushed)
    assert len(asked) == 1 and sorted(asked[0]) == [digest(2), digest(5)]
    assert [i.digest for i in kept.pruned] == asked[0] and kept.deleted == 0
    assert len(digests_left(repository)) == 5
    queue_running_version(stubs)
    done = images(s, stubs, prune=True, keep=0)
    assert done.deleted == 2
    assert digests_left(repository) == {digest(1), digest(3), digest(4)}
    stubs.assert_done()


def test_deployed_refs_warns_when_listing_and_refuses_when_pruning(
    repository: Any, stubs: Any, release_project: Path
) -> None:
    """An unknown running version is a warning for a list and a refusal for a prune."""
    s = settings(release_project)
    stubs.eb.add_response("describe_environments", {"Environments": []}, ENV_QUERY)
    reporter = RecordingReporter()
    assert deployed_refs(s, stubs, strict=False, reporter=reporter) == [
        f"{PRIVATE_REPO}@{digest(4)}"
    ]
    assert reporter.warnings[0].startswith("deployed image unknown:")
    stubs.eb.add_response("describe_environments", {"Environments": []}, ENV_QUERY)
    with pytest.raises(CtsiteError, match="refusing to prune: cannot tell which image"):
        images(s, stubs, prune=True)
    assert len(digests_left(repository)) == 5
    stubs.assert_done()


def test_parse_build_args() -> None:
    assert parse_build_args(["BASE_IMAGE=img:1", "EMPTY=", "X=a=b"]) == {
        "BASE_IMAGE": "img:1",
        "EMPTY": "",
        "X": "a=b",
    }
    for bad in ("NOVALUE", "=x", " =x"):
        with pytest.raises(CtsiteError, match="is not KEY=VALUE"):
            parse_build_args([bad])


def test_build_push_refuses_pin_without_push_before_docker(release_project: Path) -> None:
    """No Docker engine or AWS client is reached: the option check comes first."""
    with pytest.raises(CtsiteError, match="--pin needs a push"):
        build_push(settings(release_project), None, pin=True, no_push=True)
