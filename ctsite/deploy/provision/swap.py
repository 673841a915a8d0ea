"""Blue/green: exchange the production and staging environments' URLs (EB CNAME swap).

A plain function over an injected Elastic Beanstalk client, returning what changed; it checks
that both environments exist and are Ready first, and never prints.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ctsite.aws.clients import aws_errors
from ctsite.errors import CtsiteError


@dataclasses.dataclass(frozen=True)
class Swap:
    """After a swap the environments have exchanged URLs."""

    now_public: str  # the environment now serving the public URL (was staging)
    public_url: str
    now_staging: str  # the environment now at the staging URL (was public)
    staging_url: str


def swap(eb: Any, application: str, production: str, staging: str) -> Swap:
    """Exchange the two environments' CNAMEs (EB blue/green): staging becomes the public site."""
    with aws_errors(f"describe the environments {production} and {staging}"):
        envs = eb.describe_environments(
            ApplicationName=application,
            EnvironmentNames=[production, staging],
            IncludeDeleted=False,
        )["Environments"]
    by_name = {e["EnvironmentName"]: e for e in envs}
    for name in (production, staging):
        env = by_name.get(name)
        if env is None:
            raise CtsiteError(
                f"environment {name!r} not found in {application}",
                hint="provision it first: ctsite provision apply --env staging",
            )
        if env.get("Status") != "Ready":
            raise CtsiteError(
                f"{name} is {env.get('Status')}, not Ready", hint="wait until it is Ready"
            )
    with aws_errors(f"swap the URLs of {production} and {staging}"):
        eb.swap_environment_cnames(
            SourceEnvironmentName=production, DestinationEnvironmentName=staging
        )
    return Swap(
        now_public=staging,
        public_url=str(by_name[production].get("CNAME", "")),
        now_staging=production,
        staging_url=str(by_name[staging].get("CNAME", "")),
    )
