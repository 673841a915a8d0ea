"""The `ctsite images` workflow: list the repository's images, mark the deployed ones, prune.

The deployed references are Dockerrun.aws.json's image and the image of the version the
environment runs; pruning refuses to run when the latter cannot be told.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from ctsite.aws import ecr
from ctsite.aws.clients import ClientFactory
from ctsite.config import Settings
from ctsite.deploy import dockerrun
from ctsite.deploy.chores import beanstalk
from ctsite.deploy.reporter import NULL, Reporter
from ctsite.errors import CtsiteError


@dataclasses.dataclass(frozen=True)
class ListedImage:
    image: ecr.Image
    deployed: bool


@dataclasses.dataclass(frozen=True)
class ImagesResult:
    repository: str
    images: list[ListedImage]
    deployed_refs: list[str]
    keep: int
    pruned: list[ecr.Image]  # deleted (or, with dry_run / unconfirmed, to delete)
    deleted: int
    dry_run: bool


def deployed_refs(
    s: Settings, client: ClientFactory, strict: bool, reporter: Reporter = NULL
) -> list[str]:
    """Image references in use: Dockerrun.aws.json's and the running version's."""
    refs = []
    path = dockerrun.path_for(s)
    if path.exists():
        refs.append(str((dockerrun.read(path).get("Image") or {}).get("Name", "")))
    try:
        bs = beanstalk(s, client)
        label = bs.environment().get("VersionLabel")
        if label:
            name = ecr.running_image(bs.eb, bs.s3, s.eb_application, str(label))
            if name:
                refs.append(name)
            elif strict:
                raise CtsiteError(f"cannot tell which image version {label} runs")
    except CtsiteError as exc:
        if strict:
            raise CtsiteError(
                f"refusing to prune: cannot tell which image is deployed ({exc.message})",
                hint=exc.hint or "fix the Elastic Beanstalk settings and retry",
            ) from None
        reporter.warn(f"deployed image unknown: {exc.message}")
    return [r for r in refs if r]


def images(
    s: Settings,
    client: ClientFactory,
    *,
    prune: bool = False,
    keep: int = 10,
    dry_run: bool = False,
    confirm: Callable[[list[ecr.Image]], bool] = lambda doomed: True,
    reporter: Reporter = NULL,
) -> ImagesResult:
    """List the images; with `prune`, delete untagged and old ones (after `confirm(doomed)`)."""
    repo = ecr.repo_for(s.image_repository)
    found = ecr.list_images(repo, client)
    refs = deployed_refs(s, client, strict=prune, reporter=reporter)
    listed = [ListedImage(i, ecr.is_deployed(i, refs, s.image_repository)) for i in found]
    doomed: list[ecr.Image] = []
    deleted = 0
    if prune:
        doomed = ecr.prune_plan(found, keep, refs, s.image_repository)
        if doomed and not dry_run and confirm(doomed):
            deleted = ecr.delete(repo, client, doomed)
    return ImagesResult(s.image_repository, listed, refs, keep, doomed, deleted, dry_run)
