"""Runbook chores on the Elastic Beanstalk environment: read its recent logs, restart the app.

`tail_logs` does what the console's "Request logs → Last 100 lines" does: request the "tail"
information, poll until the instances have published it, fetch each instance's log from the
pre-signed URL EB returns. `sections` splits such a log into its files (`--file eb-engine.log`),
`new_lines` keeps only what was not printed yet (`--follow`). `restart` restarts the app servers
(`restart_app_server`) so the site reloads new data, and waits until the environment is Ready.
Nothing here prints; failures raise `CtsiteError`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from ctsite.deploy.aws import aws_errors
from ctsite.deploy.beanstalk import Beanstalk, check_ready
from ctsite.errors import CtsiteError

_RULE = "-------------------------------------"
BUSY = {"Launching", "Updating"}


@dataclasses.dataclass(frozen=True)
class InstanceLog:
    """One instance's tail log."""

    instance: str
    when: dt.datetime | None
    text: str


def request_tail(bs: Beanstalk) -> dt.datetime:
    """Ask every instance to publish the last lines of its logs; return when it was asked."""
    bs.environment()  # a clear error when the environment does not exist
    asked = dt.datetime.now(dt.UTC)
    with aws_errors(f"request the tail logs of {bs.environment_name!r}"):
        bs.eb.request_environment_info(EnvironmentName=bs.environment_name, InfoType="tail")
    return asked


def retrieve_tail(bs: Beanstalk, since: dt.datetime | None) -> list[dict[str, Any]]:
    """The newest published tail per instance, only those sampled at or after `since`."""
    with aws_errors(f"retrieve the tail logs of {bs.environment_name!r}"):
        infos = bs.eb.retrieve_environment_info(
            EnvironmentName=bs.environment_name, InfoType="tail"
        ).get("EnvironmentInfo", [])
    newest: dict[str, dict[str, Any]] = {}
    for info in infos:
        stamp = info.get("SampleTimestamp")
        if since is not None and (stamp is None or stamp < since):
            continue
        key = str(info.get("Ec2InstanceId", "?"))
        known = newest.get(key, {}).get("SampleTimestamp")
        if key not in newest or (stamp and (known is None or stamp > known)):
            newest[key] = info
    return [newest[k] for k in sorted(newest)]


def fetch(url: str, timeout: float = 30.0) -> str:
    """Download one published log (a pre-signed S3 URL); only http(s) URLs are followed."""
    if not url.startswith(("https://", "http://")):
        raise CtsiteError(f"refusing to fetch a log from {url[:60]!r}", hint="not an http(s) URL")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - checked
            return response.read().decode("utf-8", errors="replace")
    except urllib.error.HTTPError as exc:
        raise CtsiteError(
            f"could not download the log: HTTP {exc.code} {exc.reason}",
            hint="the link expires after a few minutes; run `ctsite logs` again",
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise CtsiteError(
            f"could not download the log: {reason}", hint="check the network and retry"
        ) from None


def tail_logs(
    bs: Beanstalk,
    timeout_s: float = 120.0,
    poll_s: float = 3.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> list[InstanceLog]:
    """Request, wait for and download the tail logs of every instance."""
    asked = request_tail(bs)
    since = asked - dt.timedelta(seconds=5)  # tolerate a slightly slow local clock
    deadline = clock() + timeout_s
    while True:
        infos = retrieve_tail(bs, since)
        if infos:
            return [
                InstanceLog(
                    str(i.get("Ec2InstanceId", "?")), i.get("SampleTimestamp"), fetch(i["Message"])
                )
                for i in infos
            ]
        if clock() >= deadline:
            raise CtsiteError(
                f"no instance of {bs.environment_name} published its logs within {timeout_s:g} s",
                hint="check the environment's health with `ctsite status` and retry",
            )
        sleep(poll_s)


def sections(text: str) -> list[tuple[str, list[str]]]:
    """Split a tail log into (file path, lines) sections, as EB writes them."""
    lines = text.splitlines()
    found: list[tuple[str, list[str]]] = []
    i = 0
    current: list[str] | None = None
    while i < len(lines):
        if lines[i].strip() == _RULE and i + 2 < len(lines) and lines[i + 2].strip() == _RULE:
            current = []
            found.append((lines[i + 1].strip(), current))
            i += 3
            continue
        if current is None:
            current = []
            found.append(("", current))
        current.append(lines[i])
        i += 1
    for _, body in found:  # EB pads each section with blank lines
        while body and not body[-1].strip():
            body.pop()
    return found


def select(found: list[tuple[str, list[str]]], name: str | None) -> list[tuple[str, list[str]]]:
    """The sections whose file is `name` (a base name or a path suffix); all when None."""
    if not name:
        return found
    wanted = name.strip("/")
    return [s for s in found if s[0] == name or s[0].rstrip("/").endswith("/" + wanted)]


def new_lines(previous: list[str], current: list[str]) -> list[str]:
    """The lines of `current` after its overlap with the end of `previous` (for --follow)."""
    for k in range(min(len(previous), len(current)), 0, -1):
        if current[:k] == previous[-k:]:
            return current[k:]
    return current


def restart(
    bs: Beanstalk,
    timeout_s: float = 600.0,
    poll_s: float = 5.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Restart the app servers of the environment and wait until it is Ready again."""
    check_ready(bs.environment())
    with aws_errors(f"restart the app servers of {bs.environment_name!r}"):
        bs.eb.restart_app_server(EnvironmentName=bs.environment_name)
    deadline = clock() + timeout_s
    while True:
        sleep(poll_s)
        env = bs.environment()
        if env.get("Status") == "Ready":
            return env
        if clock() >= deadline:
            raise CtsiteError(
                f"{bs.environment_name} is still {env.get('Status')} after {timeout_s:g} s",
                hint="the restart may still be running; follow it with `ctsite status`",
            )
