"""`ctsite restart` (and `upload-data --restart`, the release's restart step): restart the
environment's app servers (`restart_app_server`) so the site reloads new data, and wait until
the environment is Ready again. Nothing here prints (progress goes to a `Reporter`).
"""

from __future__ import annotations

from typing import Any

from ctsite.aws.beanstalk import Beanstalk, check_ready
from ctsite.aws.clients import ClientFactory
from ctsite.config import Settings
from ctsite.deploy.deploy import EnvironmentState, environment_state
from ctsite.deploy.environment import beanstalk
from ctsite.deploy.reporter import NULL, Reporter
from ctsite.errors import CtsiteError


def restart(bs: Beanstalk, timeout_s: float = 600.0, poll_s: float = 5.0) -> dict[str, Any]:
    """Restart the app servers of the environment and wait until it is Ready again."""
    check_ready(bs.environment())
    bs.restart_app_server()
    return bs.wait_until_ready(timeout_s, poll_s)


def restart_environment(
    s: Settings,
    client: ClientFactory,
    poll_s: float = 5.0,
    reporter: Reporter = NULL,
    why: str = "",
) -> EnvironmentState:
    """`ctsite restart` (and `upload-data --restart`, the release's restart step)."""
    if poll_s <= 0:
        raise CtsiteError("--poll must be positive", exit_code=2)
    reporter.info(f"restarting the app servers of {s.eb_environment}" + (f" {why}" if why else ""))
    return environment_state(s, restart(beanstalk(s, client), poll_s=poll_s))
