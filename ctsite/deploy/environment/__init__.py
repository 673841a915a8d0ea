"""The environment chores: the runbook's commands on the running Elastic Beanstalk environment.

One module per job, each the workflow of the same-named CLI command(s) (`ctsite.cli.environment`):
`status` (status, versions, open), `logs`, `restart`, `watch` (events, health) and `alerts`.
`beanstalk` is the one way they reach the configured environment.
"""

from __future__ import annotations

from ctsite.aws.beanstalk import Beanstalk
from ctsite.aws.clients import ClientFactory
from ctsite.config import Settings


def beanstalk(s: Settings, client: ClientFactory) -> Beanstalk:
    """The configured environment (`eb_application`, `eb_environment`) through `client`."""
    return Beanstalk(client, s.eb_application, s.eb_environment)
