"""`ctsite logs`: the environment's tail logs, without ssh.

`tail_logs` does what the console's "Request logs → Last 100 lines" does: request the "tail"
information, poll until the instances have published it, fetch each instance's log from the
pre-signed URL EB returns. `sections` splits such a log into its files (`--file eb-engine.log`),
`new_lines` keeps only what was not printed yet (`--follow`). Nothing here prints (progress goes
to a `Reporter`); failures raise `CtsiteError`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from ctsite.aws.beanstalk import Beanstalk
from ctsite.aws.clients import ClientFactory
from ctsite.config import Settings
from ctsite.deploy.environment import beanstalk
from ctsite.deploy.reporter import NULL, Reporter
from ctsite.errors import CtsiteError

_RULE = "-------------------------------------"


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
    bs.request_tail()
    return asked


def retrieve_tail(bs: Beanstalk, since: dt.datetime | None) -> list[dict[str, Any]]:
    """The newest published tail per instance, only those sampled at or after `since`."""
    infos = bs.retrieve_tail()
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


def follow_logs(
    s: Settings,
    client: ClientFactory,
    on_lines: Callable[[str, str, list[str]], None],
    *,
    file: str | None = None,
    follow: bool = False,
    interval: float = 10.0,
    timeout: float = 120.0,
    reporter: Reporter = NULL,
    sleep: Callable[[float], None] = time.sleep,
    polls: int | None = None,
) -> int:
    """Hand each instance's new log lines to `on_lines(instance, path, lines)`; return the count.

    With `follow`, fetch again every `interval` seconds until interrupted (Ctrl-C), as `eb logs
    --stream` does, or (tests) after `polls` further fetches.
    """
    if interval <= 0 or timeout <= 0:
        raise CtsiteError("--interval and --timeout must be positive", exit_code=2)
    bs = beanstalk(s, client)
    seen: dict[tuple[str, str], list[str]] = {}
    printed = 0
    done = 0
    while True:
        for log in tail_logs(bs, timeout, poll_s=min(3.0, interval)):
            chosen = select(sections(log.text), file)
            if file and not chosen:
                reporter.warn(f"{log.instance}: no {file} in its tail logs")
            for path, lines in chosen:
                key = (log.instance, path)
                fresh = new_lines(seen.get(key, []), lines)
                seen[key] = lines
                if fresh:
                    on_lines(log.instance, path, fresh)
                    printed += len(fresh)
        if not follow or (polls is not None and done >= polls):
            return printed
        if done == 0:
            reporter.info(f"following the logs of {s.eb_environment} (Ctrl-C to stop)")
        done += 1
        sleep(interval)
