"""`ctsite status`, `versions` and `open`: what the environment runs, its application versions
(and their pruning) and its URL, as typed results (the command's output, or JSON).

Nothing here prints (progress goes to a `Reporter`); failures raise `CtsiteError`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

from ctsite.aws import cloudwatch, ecr, transfer
from ctsite.aws.clients import ClientFactory
from ctsite.config import Settings
from ctsite.deploy.deploy import EnvironmentState, environment_state, url_of
from ctsite.deploy.environment import beanstalk
from ctsite.deploy.reporter import NULL, Reporter
from ctsite.errors import CtsiteError


@dataclasses.dataclass(frozen=True)
class Version:
    label: str
    created: dt.datetime | None
    status: str
    description: str
    deployed: bool


@dataclasses.dataclass(frozen=True)
class StatusResult:
    environment: EnvironmentState
    events: list[dict[str, Any]]
    versions: list[Version]
    images: list[ecr.Image] | None
    images_error: str | None
    repository: str
    servers: list[transfer.StrayServer] | None
    servers_error: str | None
    hourly_cost: float
    alarms: list[cloudwatch.Alarm] | None = None  # the environment's (provision's) alarms
    alarms_error: str | None = None


def _version(v: dict[str, Any], deployed: set[str]) -> Version:
    label = str(v.get("VersionLabel"))
    return Version(
        label,
        v.get("DateCreated"),
        str(v.get("Status", "")),
        str(v.get("Description", "")),
        label in deployed,
    )


def environment_alarms(client: ClientFactory, environment: str) -> list[cloudwatch.Alarm]:
    """The alarms `provision` made for `environment`: named <environment>-<what>, where <what>
    has no hyphen (so production's list leaves out a "<production>-staging-..." environment's)."""
    prefix = f"{environment}-"
    return [
        alarm
        for alarm in cloudwatch.alarms(client, prefix)
        if "-" not in alarm.name.removeprefix(prefix)
    ]


def status(s: Settings, client: ClientFactory, events: int = 10) -> StatusResult:
    """Health, running version, URL, recent events, rollback targets, images, stray servers,
    alarm states."""
    eb = beanstalk(s, client)
    current = eb.environment()
    recent = eb.events(limit=events)
    running = {str(current.get("VersionLabel"))}
    versions = [_version(v, running) for v in eb.versions()[: s.eb_keep_versions]]
    images = images_error = None
    try:
        images = ecr.list_images(ecr.repo_for(s.image_repository), client)
    except CtsiteError as exc:
        images_error = exc.message
    servers = servers_error = None
    try:
        servers = transfer.find_stray_servers(client, include_live=True)
    except CtsiteError as exc:
        servers_error = exc.message
    alarms = alarms_error = None
    try:
        alarms = environment_alarms(client, s.eb_environment)
    except CtsiteError as exc:
        alarms_error = exc.message
    return StatusResult(
        environment_state(s, current),
        recent,
        versions,
        images,
        images_error,
        s.image_repository,
        servers,
        servers_error,
        s.transfer_hourly_cost,
        alarms,
        alarms_error,
    )


@dataclasses.dataclass(frozen=True)
class VersionsResult:
    application: str
    versions: list[Version]
    keep: int
    pruned: list[str]  # deleted (or, with dry_run, to delete)
    dry_run: bool


def versions(
    s: Settings,
    client: ClientFactory,
    *,
    prune: bool = False,
    keep: int | None = None,
    dry_run: bool = False,
    confirm: Callable[[list[str]], bool] | None = None,
    reporter: Reporter = NULL,
) -> VersionsResult:
    """The application versions, newest first; with `prune`, delete all but the newest `keep`.

    `confirm(labels)` is asked before anything is deleted (not for a dry run); False deletes
    nothing.
    """
    keep = s.eb_keep_versions if keep is None else keep
    eb = beanstalk(s, client)
    deployed = eb.deployed_labels()
    listed = eb.versions()
    found = [_version(v, deployed) for v in listed]
    doomed: list[str] = []
    if prune:
        doomed = eb.prune_plan(keep, listed, deployed)
        if doomed and not dry_run and confirm is not None and not confirm(doomed):
            return VersionsResult(s.eb_application, found, keep, [], dry_run)
        for label in doomed:
            if not dry_run:
                eb.delete_version(label)
                reporter.info(f"deleted {label}")
    return VersionsResult(s.eb_application, found, keep, doomed, dry_run)


def site_url(s: Settings, client: ClientFactory) -> str:
    """The environment's URL (`ctsite open`); a clear error while it has none."""
    url = url_of(beanstalk(s, client).environment())
    if not url:
        raise CtsiteError(f"{s.eb_environment} has no URL yet", hint="see `ctsite status`")
    return url
