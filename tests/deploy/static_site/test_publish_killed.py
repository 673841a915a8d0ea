"""Kill tests: `ctsite publish-site`, a real process, SIGKILLed at random moments (at its Nth
write to S3 or CloudFront, before or after that write reached moto) never leaves a page in the
bucket naming a file the bucket lacks; the next publish run to its end leaves the bucket whole,
the killed runs' files swept a generation later. Each killed run publishes a new export (the
two store versions in turn, each page also loading a script of that run), so every run has new
files for its pages to name: a publish that switched a page before sending what it names, or
deleted what a live page names, is caught."""

from __future__ import annotations

import hashlib
import json
import posixpath
import random
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ctsite.deploy.static_site.objects import site_files
from ctsite.deploy.static_site.publish_plan import plan_publish
from tests.deploy.static_site.conftest import TwoVersions
from tests.support.cli import cli_env, start_ctsite
from tests.support.static_bucket import RECORD, KillingProxy, bucket_objects, missing_names

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
RUNS = 10


def test_a_killed_publish_never_leaves_a_page_naming_a_missing_file(
    aws_env: str, moto_clients: Any, hosting: tuple[str, str], two_versions: TwoVersions,
    tmp_path: Path,
):  # fmt: skip
    bucket, distribution = hosting
    s3 = moto_clients("s3")
    with KillingProxy(aws_env) as proxy:
        env = cli_env(without=("CTSITE_",), AWS_ENDPOINT_URL=proxy.url, COLUMNS="200")

        def publish(site: Path, kill_at: int = 0, after: bool = False) -> tuple[int, str, int]:
            proxy.arm(None, kill_at, after)
            proc = start_ctsite(
                "publish-site", "--from", str(site), "--bucket", bucket,
                "--distribution-id", distribution,
                cwd=tmp_path, env=env, stdin=subprocess.DEVNULL,
            )  # fmt: skip
            proxy.process = proc
            out, err = proc.communicate(timeout=300)
            return proc.returncode, out + err, proxy.writes

        sites = [two_versions.first, two_versions.second]
        code, output, writes_first = publish(sites[0])
        assert code == 0, output
        code, output, writes_update = publish(sites[1])
        assert code == 0, output
        assert missing_names(bucket_objects(s3, bucket)) == []
        rng = random.Random(27)
        killed = 0
        for run in range(RUNS):
            site = variant(sites[run % 2], run, tmp_path / f"run-{run}")
            kill_at = rng.randint(1, writes_planned(moto_clients, bucket, site))
            after = rng.random() < 0.5
            code, output, writes = publish(site, kill_at, after)
            assert code in (0, -signal.SIGKILL), output
            killed += code == -signal.SIGKILL
            stored = bucket_objects(s3, bucket)
            assert missing_names(stored) == [], (run, kill_at, after, writes)
            assert "index.html" in stored
        assert killed >= RUNS // 2, f"only {killed} of {RUNS} runs were killed"
        # publishes run to their end: the bucket is whole, the killed runs' files swept
        for site in (sites[1], sites[0], sites[1]):
            code, output, _ = publish(site)
            assert code == 0, output
    stored = bucket_objects(s3, bucket)
    assert missing_names(stored) == []
    record = json.loads(stored[RECORD].body)
    assert record["pending"] == [] and record["retired"] == []
    live = set(record["live"])
    assert live == keys_of(sites[1])
    assert set(stored) <= live | set(record["grace"]) | {RECORD}
    assert writes_first > writes_update


def variant(site: Path, run: int, folder: Path) -> Path:
    """A copy of the export `site` whose every page also loads a script of its own (a new
    content-hashed file), as each new export brings files no page named before."""
    shutil.copytree(site, folder)
    body = f"/* run {run} */\n".encode()
    script = f"static/run.{hashlib.sha256(body).hexdigest()[:16]}.js"
    (folder / script).write_bytes(body)
    for page in folder.rglob("*.html"):
        rel = posixpath.relpath(script, posixpath.dirname(page.relative_to(folder).as_posix()))
        text = page.read_text(encoding="utf-8")
        page.write_text(text.replace("</body>", f'<script src="{rel}"></script></body>'))
    return folder


def writes_planned(clients: Any, bucket: str, site: Path) -> int:
    """About how many writes a publish of `site` makes now (its plan's uploads, the record's
    two or three writes, the invalidation, the deletion): where a kill may fall."""
    plan = plan_publish(clients, bucket, "", site_files(site), None)
    return len(plan.uploads) + 3 + (2 if plan.deletions else 0)


def keys_of(site: Path) -> set[str]:
    return {f.key for f in site_files(site)}
