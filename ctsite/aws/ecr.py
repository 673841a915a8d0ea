"""ECR private and public: login tokens, THE image lister, digest lookups, deletion.

`public.ecr.aws/<alias>/<name>` is ECR Public (its API lives in us-east-1 only), a
`<account>.dkr.ecr.<region>.amazonaws.com/<name>` repository is private ECR in that region.
`list_images` returns `Image`s, newest first (used by `status`, `images` and the release).
`deployed_refs` names the image(s) in use: the one `Dockerrun.aws.json` names, and the one in the
source bundle of the version the environment runs. `prune_plan` picks untagged images and tagged
ones older than the newest `keep`, never a deployed one nor `latest`. Nothing here prints.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import zipfile
from collections.abc import Iterable

from ctsite.aws.clients import ClientFactory, aws_errors, error_code
from ctsite.aws.s3 import get_bytes
from ctsite.container.registry import (
    ECR_PRIVATE,
    ECR_PUBLIC_HOST,
    ECR_PUBLIC_REGION,
    RegistryAuth,
    decode_token,
    registry_kind,
    split_repository,
)
from ctsite.errors import CtsiteError

PROTECTED_TAGS = {"latest"}


@dataclasses.dataclass(frozen=True)
class Repo:
    """Where an image repository's API lives."""

    repository: str  # as configured (image_repository)
    api: str  # "ecr-public" or "ecr"
    region: str
    name: str  # the repository name inside the registry


@dataclasses.dataclass(frozen=True)
class Image:
    digest: str
    tags: tuple[str, ...]
    size: int
    pushed: dt.datetime | None


def repo_for(repository: str) -> Repo:
    """The API, region and name of an ECR repository; a clear error for any other registry."""
    host, path = split_repository(repository)
    kind = registry_kind(host)
    if kind == "ecr-public":
        return Repo(repository, "ecr-public", ECR_PUBLIC_REGION, path.split("/", 1)[-1])
    if kind == "ecr":
        match = ECR_PRIVATE.match(host)
        assert match is not None
        return Repo(repository, "ecr", match.group(2), path)
    raise CtsiteError(
        f"{repository} is not an ECR repository; ctsite lists ECR and ECR Public only",
        hint="set image_repository to public.ecr.aws/<alias>/<name> or an ECR repository",
    )


def ecr_public_auth(client: ClientFactory, registry: str = ECR_PUBLIC_HOST) -> RegistryAuth:
    """Credentials for ECR Public (its API lives in us-east-1 only)."""
    ecr_public = client("ecr-public", ECR_PUBLIC_REGION)
    with aws_errors("get an ECR Public login token (ecr-public get-authorization-token)"):
        data = ecr_public.get_authorization_token()["authorizationData"]
    return decode_token(data["authorizationToken"], registry)


def ecr_auth(client: ClientFactory, registry: str, region: str) -> RegistryAuth:
    """Credentials for a private ECR registry, through the `ecr` API of its region."""
    with aws_errors(f"get an ECR login token for {registry} (ecr get-authorization-token)"):
        items = client("ecr", region).get_authorization_token()["authorizationData"]
    if not items:
        raise CtsiteError(f"ECR returned no authorization data for {registry}")
    return decode_token(items[0]["authorizationToken"], registry)


def resolve_auth(client: ClientFactory, repository: str) -> RegistryAuth | None:
    """Credentials for the registry holding `repository`, or None to use docker's own."""
    host, _ = split_repository(repository)
    kind = registry_kind(host)
    if kind == "ecr-public":
        return ecr_public_auth(client, host)
    if kind == "ecr":
        match = ECR_PRIVATE.match(host)
        assert match is not None
        return ecr_auth(client, host, match.group(2))
    return None


def _not_found(repo: Repo, exc: CtsiteError) -> CtsiteError:
    if "RepositoryNotFound" in exc.message:
        where = "ECR Public (us-east-1)" if repo.api == "ecr-public" else f"ECR ({repo.region})"
        return CtsiteError(
            f"repository {repo.name!r} not found in {where}",
            hint="create it (aws ecr-public create-repository) or fix image_repository",
        )
    return exc


def list_images(repo: Repo, client: ClientFactory) -> list[Image]:
    """Every image of the repository, newest first."""
    ecr = client(repo.api, repo.region)
    found: list[Image] = []
    try:
        with aws_errors(f"list the images of {repo.repository}"):
            for page in ecr.get_paginator("describe_images").paginate(repositoryName=repo.name):
                for d in page.get("imageDetails", []):
                    found.append(
                        Image(
                            str(d["imageDigest"]),
                            tuple(d.get("imageTags") or ()),
                            int(d.get("imageSizeInBytes") or 0),
                            d.get("imagePushedAt"),
                        )
                    )
    except CtsiteError as exc:
        raise _not_found(repo, exc) from None
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    return sorted(found, key=lambda i: i.pushed or epoch, reverse=True)


def digest_exists(repo: Repo, client: ClientFactory, digest: str) -> bool:
    """Whether the repository holds an image with this digest."""
    import botocore.exceptions

    ecr = client(repo.api, repo.region)
    try:
        with aws_errors(f"look up {digest[:19]} in {repo.repository}"):
            try:
                ecr.describe_images(repositoryName=repo.name, imageIds=[{"imageDigest": digest}])
            except botocore.exceptions.ClientError as exc:
                if error_code(exc) == "ImageNotFoundException":
                    return False
                raise
    except CtsiteError as exc:
        raise _not_found(repo, exc) from None
    return True


def matches(image: Image, ref: str, repository: str) -> bool:
    """Whether `ref` (repository@digest or repository:tag) names this image."""
    name, sep, digest = ref.partition("@")
    if sep:
        return name == repository and digest == image.digest
    name, _, tag = ref.rpartition(":")
    return name == repository and tag in image.tags


def image_from_bundle(data: bytes) -> str | None:
    """The image named by the Dockerrun.aws.json inside a source bundle (zip bytes)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as bundle:
            doc = json.loads(bundle.read("Dockerrun.aws.json"))
        return str(doc["Image"]["Name"])
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError):
        return None


def running_image(client: ClientFactory, application: str, label: str) -> str | None:
    """The image of the application version `label`, read from its source bundle in S3."""
    with aws_errors(f"look up the application version {label!r}"):
        versions = (
            client("elasticbeanstalk")
            .describe_application_versions(ApplicationName=application, VersionLabels=[label])
            .get("ApplicationVersions", [])
        )
    if not versions or not versions[0].get("SourceBundle"):
        return None
    bundle = versions[0]["SourceBundle"]
    return image_from_bundle(get_bytes(client, bundle["S3Bucket"], bundle["S3Key"]))


def is_deployed(image: Image, refs: Iterable[str], repository: str) -> bool:
    return any(matches(image, ref, repository) for ref in refs)


def prune_plan(
    images: list[Image], keep: int, deployed: Iterable[str], repository: str
) -> list[Image]:
    """Untagged images, and tagged ones beyond the newest `keep`; never deployed, never latest.

    `images` must be newest first (as `list_images` returns them).
    """
    if keep < 0:
        raise CtsiteError(f"--keep must be 0 or more, got {keep}", exit_code=2)
    refs = list(deployed)
    doomed: list[Image] = []
    tagged_seen = 0
    for image in images:
        if is_deployed(image, refs, repository) or PROTECTED_TAGS & set(image.tags):
            if image.tags:
                tagged_seen += 1
            continue
        if not image.tags:
            doomed.append(image)
            continue
        tagged_seen += 1
        if tagged_seen > keep:
            doomed.append(image)
    return doomed


def delete(repo: Repo, client: ClientFactory, images: list[Image]) -> int:
    """Delete the images by digest (100 per call); returns how many were deleted."""
    ecr = client(repo.api, repo.region)
    deleted = 0
    problems: list[str] = []
    for start in range(0, len(images), 100):
        chunk = images[start : start + 100]
        try:
            with aws_errors(f"delete images from {repo.repository}"):
                result = ecr.batch_delete_image(
                    repositoryName=repo.name,
                    imageIds=[{"imageDigest": i.digest} for i in chunk],
                )
        except CtsiteError as exc:
            raise _not_found(repo, exc) from None
        failures = result.get("failures", [])
        deleted += len(chunk) - len(failures)
        for failure in failures:
            digest = str((failure.get("imageId") or {}).get("imageDigest", "?"))[:19]
            problems.append(
                f"{digest}: {failure.get('failureCode')} {failure.get('failureReason')}"
            )
    if problems:
        raise CtsiteError(
            f"deleted {deleted} image(s) but {len(problems)} failed: " + "; ".join(problems),
            hint="check the repository's permissions and retry",
        )
    return deleted
