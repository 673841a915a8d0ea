"""`ctsite publish-site` stopped half-way — Ctrl-C, or the network lost at one write — says in
its one line what the site shows now (the old pages, or pages being switched, each naming only
files the bucket holds) and that a re-run finishes; the re-run does, sending nothing twice.
A real process against moto's server through a proxy that signals it, or drops the connection,
at its Nth write."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ctsite.deploy.static_site.objects import site_files
from ctsite.deploy.static_site.publish_plan import plan_publish
from tests.deploy.static_site.conftest import TwoVersions
from tests.support.cli import cli_env, start_ctsite
from tests.support.static_bucket import KillingProxy, bucket_objects, decoded, missing_names

pytestmark = pytest.mark.timeout(600)


def pages(objects: dict[str, Any]) -> dict[str, bytes]:
    return {k: decoded(v) for k, v in objects.items() if k.endswith(".html")}


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


class Publisher:
    """`ctsite publish-site --from SITE` through the proxy, stopped at its `at`-th write."""

    def __init__(self, proxy: KillingProxy, hosting: tuple[str, str], cwd: Path) -> None:
        self.proxy, (self.bucket, self.distribution), self.cwd = proxy, hosting, cwd
        self.env = cli_env(without=("CTSITE_",), AWS_ENDPOINT_URL=proxy.url, COLUMNS="200")

    def __call__(
        self, site: Path, at: int = 0, signum: int | None = None
    ) -> subprocess.CompletedProcess[str]:
        proc = start_ctsite(
            "publish-site", "--from", str(site), "--bucket", self.bucket,
            "--distribution-id", self.distribution,
            cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        if signum is None:  # the network lost at that write (the connection dropped)
            self.proxy.arm(None, at, after=False)
        else:
            self.proxy.arm(proc, at, after=True, signum=signum)
        out, err = proc.communicate(timeout=300)
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def non_page_writes(clients: Any, bucket: str, site: Path) -> int:
    """The writes a publish of `site` makes before its first page: the record, the files."""
    plan = plan_publish(clients, bucket, "", site_files(site), None)
    return 1 + len([u for u in plan.uploads if u.kind != "page"])


@pytest.mark.parametrize("signum", [None, signal.SIGINT], ids=["network", "ctrl-c"])
def test_stopped_before_the_pages_the_site_shows_the_old_ones(
    aws_env: str, moto_clients: Any, hosting: tuple[str, str], two_versions: TwoVersions,
    tmp_path: Path, signum: int | None,
):  # fmt: skip
    bucket, _ = hosting
    s3 = moto_clients("s3")
    with KillingProxy(aws_env) as proxy:
        publish = Publisher(proxy, hosting, tmp_path)
        first = publish(two_versions.first)
        assert first.returncode == 0, first.stderr
        before = pages(bucket_objects(s3, bucket))
        stopped = publish(two_versions.second, at=3, signum=signum)
        assert stopped.returncode == (130 if signum else 1), stopped.stdout + stopped.stderr
        (line,) = error_lines(stopped.stderr)
        said = " ".join(stopped.stderr.split())
        assert "Traceback" not in said
        if signum:
            assert line.startswith("error: stopped by Ctrl-C (SIGINT);")
            assert "cleaned up" not in said  # the files sent so far stay, for the re-run
        assert "no page was switched: the site shows what it showed before" in said
        assert "run publish-site again" in said
        stored = bucket_objects(s3, bucket)
        assert pages(stored) == before and missing_names(stored) == []
        again = publish(two_versions.second)
        assert again.returncode == 0, again.stderr
    stored = bucket_objects(s3, bucket)
    assert missing_names(stored) == [] and pages(stored) != before


def test_ctrl_c_while_the_pages_switch(
    aws_env: str, moto_clients: Any, hosting: tuple[str, str], two_versions: TwoVersions,
    tmp_path: Path,
):  # fmt: skip
    bucket, _ = hosting
    s3 = moto_clients("s3")
    with KillingProxy(aws_env) as proxy:
        publish = Publisher(proxy, hosting, tmp_path)
        assert publish(two_versions.first).returncode == 0
        at = non_page_writes(moto_clients, bucket, two_versions.second) + 1  # the first page
        stopped = publish(two_versions.second, at=at, signum=signal.SIGINT)
        assert stopped.returncode == 130, stopped.stdout + stopped.stderr
        said = " ".join(stopped.stderr.split())
        assert "the pages were being switched, each naming only files the bucket holds" in said
        assert "run publish-site again to finish" in said
        assert missing_names(bucket_objects(s3, bucket)) == []
        again = publish(two_versions.second)
        assert again.returncode == 0, again.stderr
    assert missing_names(bucket_objects(s3, bucket)) == []
