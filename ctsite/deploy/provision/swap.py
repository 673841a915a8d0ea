"""Blue/green: exchange the production and staging environments' URLs (EB CNAME swap).

A plain function over the client factory (the EB calls are `ctsite.aws.beanstalk`'s), returning
what changed; it checks that both environments exist and are Ready first, and never prints.
"""

from __future__ import annotations

import dataclasses

from ctsite.aws.beanstalk import Beanstalk
from ctsite.aws.clients import ClientFactory
from ctsite.errors import CtsiteError


@dataclasses.dataclass(frozen=True)
class Swap:
    """After a swap the environments have exchanged URLs."""

    now_public: str  # the environment now serving the public URL (was staging)
    public_url: str
    now_staging: str  # the environment now at the staging URL (was public)
    staging_url: str


def swap(client: ClientFactory, application: str, production: str, staging: str) -> Swap:
    """Exchange the two environments' CNAMEs (EB blue/green): staging becomes the public site."""
    public = Beanstalk(client, application, production)
    by_name = public.environments([production, staging])
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
    public.swap_cnames(staging)
    return Swap(
        now_public=staging,
        public_url=str(by_name[production].get("CNAME", "")),
        now_staging=production,
        staging_url=str(by_name[staging].get("CNAME", "")),
    )
