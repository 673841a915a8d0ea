"""`ctsite images`: private ECR in moto, ECR Public under botocore's Stubber; the deployed image
(Dockerrun.aws.json and the running version's bundle in moto S3) is never pruned."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from ctsite.aws.ecr import Image, prune_plan, repo_for
from ctsite.cli import app
from ctsite.errors import CtsiteError
from tests.support.ebtest import application_version, env_description
from tests.support.reltest import APP, ENV, PRIVATE_REPO, REGION, write_project

ENV_QUERY = {"ApplicationName": APP, "EnvironmentNames": [ENV], "IncludeDeleted": False}
BUCKET = "elasticbeanstalk-us-east-2-test"

# an environment no version was deployed to (EB leaves VersionLabel out)
NO_VERSION_YET = {k: v for k, v in env_description().items() if k != "VersionLabel"}


def digest(n: int) -> str:
    return "sha256:" + f"{n:x}" * 64  # distinct in the first 12 hex digits shown


def invoke(stubs: Any, *args: str) -> Any:
    return CliRunner().invoke(app, list(args), obj={"aws_client": stubs})


def push(ecr: Any, n: int, tag: str | None) -> None:
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"digest": digest(100 + n), "size": 1, "mediaType": "application/json"},
        "layers": [],
    }
    extra = {"imageTag": tag} if tag else {}
    ecr.put_image(
        repositoryName="ct-site", imageManifest=json.dumps(manifest), imageDigest=digest(n), **extra
    )


def pin(release_project: Path, ref: str) -> None:
    path = release_project / "Dockerrun.aws.json"
    doc = json.loads(path.read_text())
    doc["Image"]["Name"] = ref
    path.write_text(json.dumps(doc))


def queue_running_version(stubs: Any) -> None:
    """EB: the environment runs v9, whose bundle is s3://BUCKET/APP/v9.zip."""
    stubs.eb.add_response(
        "describe_environments",
        {"Environments": [env_description(version="v9")]},
        ENV_QUERY,
    )
    stubs.eb.add_response(
        "describe_application_versions",
        {
            "ApplicationVersions": [
                application_version(
                    "v9", SourceBundle={"S3Bucket": BUCKET, "S3Key": f"{APP}/v9.zip"}
                )
            ]
        },
        {"ApplicationName": APP, "VersionLabels": ["v9"]},
    )


def running_version(stubs: Any, image: str | None) -> None:
    """The environment runs v9, whose source bundle in (moto) S3 names `image`."""
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as bundle:
        bundle.writestr("Dockerrun.aws.json", json.dumps({"Image": {"Name": image}}))
    s3.put_object(Bucket=BUCKET, Key=f"{APP}/v9.zip", Body=data.getvalue())
    queue_running_version(stubs)


@pytest.fixture
def private_ecr(stubs: Any, release_project: Path) -> Any:
    ecr = boto3.client("ecr", region_name=REGION)
    ecr.create_repository(repositoryName="ct-site")
    push(ecr, 1, "v1")  # runs in the environment
    push(ecr, 2, None)  # untagged: pruned
    push(ecr, 3, "latest")  # protected tag
    push(ecr, 4, "v0")  # pinned in Dockerrun.aws.json
    push(ecr, 5, "v-old")  # old: pruned with --keep 0
    pin(release_project, f"{PRIVATE_REPO}@{digest(4)}")
    return ecr


def digests_left(ecr: Any) -> set[str]:
    return {d["imageDigest"] for d in ecr.describe_images(repositoryName="ct-site")["imageDetails"]}


def test_list_marks_the_deployed_images(private_ecr: Any, stubs: Any) -> None:
    running_version(stubs, f"{PRIVATE_REPO}:v1")
    result = invoke(stubs, "images")
    assert result.exit_code == 0, result.output
    rows = {
        line.split("│")[1].strip(): line for line in result.output.splitlines() if "sha256:" in line
    }
    assert len(rows) == 5
    deployed = {d for d, line in rows.items() if line.rstrip().rstrip("│").strip().endswith("yes")}
    assert deployed == {digest(1)[:19], digest(4)[:19]}
    assert "(untagged)" in rows[digest(2)[:19]]
    stubs.assert_done()


def test_prune_never_deletes_deployed_or_latest(private_ecr: Any, stubs: Any) -> None:
    running_version(stubs, f"{PRIVATE_REPO}:v1")
    result = invoke(stubs, "images", "--prune", "--keep", "0", "--dry-run")
    assert result.exit_code == 0, result.output
    assert f"would delete {digest(2)}" in result.output
    assert f"would delete {digest(5)}" in result.output
    assert len(digests_left(private_ecr)) == 5  # dry run: nothing deleted

    queue_running_version(stubs)
    result = invoke(stubs, "images", "--prune", "--keep", "0", "--yes")
    assert result.exit_code == 0, result.output
    assert "deleted 2 image(s)" in result.output
    assert digests_left(private_ecr) == {digest(1), digest(3), digest(4)}
    stubs.assert_done()


def test_prune_refuses_when_the_deployed_image_is_unknown(private_ecr: Any, stubs: Any) -> None:
    stubs.eb.add_response("describe_environments", {"Environments": []}, ENV_QUERY)
    result = invoke(stubs, "images", "--prune", "--yes")
    assert isinstance(result.exception, CtsiteError)
    assert result.exception.message.startswith(
        "refusing to prune: cannot tell which image is deployed"
    )
    assert len(digests_left(private_ecr)) == 5
    stubs.assert_done()


def test_missing_private_repository(stubs: Any, release_project: Path) -> None:
    result = invoke(stubs, "images")
    assert isinstance(result.exception, CtsiteError)
    assert result.exception.message == f"repository 'ct-site' not found in ECR ({REGION})"
    assert "create it" in (result.exception.hint or "")


def public_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = write_project(tmp_path / "public", repository="public.ecr.aws/lab/ct-site")
    monkeypatch.chdir(root)
    return root


def test_ecr_public_list_and_prune(
    stubs: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    public_project(tmp_path, monkeypatch)  # Dockerrun names public.ecr.aws/lab/ct-site:latest
    when = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    details = [
        {"imageDigest": digest(1), "imageTags": ["latest", "1.0"], "imageSizeInBytes": 90_000_000,
         "imagePushedAt": when},
        {"imageDigest": digest(2), "imageSizeInBytes": 80_000_000,
         "imagePushedAt": when - dt.timedelta(days=1)},
    ]  # fmt: skip
    stubs.ecr_public.add_response(
        "describe_images",
        {"imageDetails": [{"repositoryName": "ct-site", **d} for d in details]},
        {"repositoryName": "ct-site"},
    )
    stubs.eb.add_response("describe_environments", {"Environments": [NO_VERSION_YET]}, ENV_QUERY)
    stubs.ecr_public.add_response(
        "batch_delete_image",
        {"imageIds": [{"imageDigest": digest(2)}], "failures": []},
        {"repositoryName": "ct-site", "imageIds": [{"imageDigest": digest(2)}]},
    )
    result = invoke(stubs, "images", "--prune", "--yes")
    assert result.exit_code == 0, result.output
    assert "latest, 1.0" in result.output and "90.0 MB" in result.output
    assert f"delete {digest(2)}" in result.output and "deleted 1 image(s)" in result.output
    stubs.assert_done()


def test_ecr_public_missing_repository(
    stubs: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    public_project(tmp_path, monkeypatch)
    stubs.ecr_public.add_client_error(
        "describe_images",
        service_error_code="RepositoryNotFoundException",
        service_message="The repository with name 'ct-site' does not exist",
        expected_params={"repositoryName": "ct-site"},
    )
    result = invoke(stubs, "images")
    assert isinstance(result.exception, CtsiteError)
    assert result.exception.message == "repository 'ct-site' not found in ECR Public (us-east-1)"
    stubs.assert_done()


def test_not_an_ecr_repository() -> None:
    with pytest.raises(CtsiteError, match="is not an ECR repository"):
        repo_for("registry.example.org:5000/ct-site")
    assert repo_for("public.ecr.aws/lab/ct-site").region == "us-east-1"
    assert repo_for(PRIVATE_REPO).name == "ct-site"


def test_prune_plan_keeps_the_newest_tagged() -> None:
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    images = [
        Image(digest(n), tags, 1, t0 - dt.timedelta(days=n))
        for n, tags in enumerate([("latest",), ("v5",), (), ("v4",), ("v3",), ("v2",)])
    ]
    repo = "public.ecr.aws/lab/ct-site"
    doomed = prune_plan(images, 2, [f"{repo}:v2"], repo)
    # latest and v5 are the newest two tagged; v2 is deployed; the untagged one always goes.
    assert [i.digest for i in doomed] == [digest(2), digest(3), digest(4)]
    assert prune_plan(images, 10, [], repo) == [images[2]]
    with pytest.raises(CtsiteError, match="--keep must be 0 or more"):
        prune_plan(images, -1, [], repo)
