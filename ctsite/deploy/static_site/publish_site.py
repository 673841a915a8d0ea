"""The workflow of `ctsite publish-site`: the exported site into its S3 bucket, never half-shown.

A reader's page names its files; the order keeps every name good at every moment, whenever the
publish stops (a kill, a lost network):

1. the publish record gets the new keys as `pending` (so a stopped publish's objects are ours);
2. the content-hashed files (scripts, styles, pictures, data) are sent — new names, which no
   live page names yet — then the data index, then the fixed-name files (CSV downloads,
   citations); each is read back (size, ETag, headers, SHA-256 metadata) before going on, and
   a LIST confirms that every file the new pages name is in the bucket;
3. the pages are sent, last: each switch is one PUT, which S3 applies atomically;
4. the record makes the new keys `live` and gives the previous generation's `grace`;
5. CloudFront drops its copies of the switched pages (never of a hashed file: its name is new);
6. only then the files of the generation before the previous one are deleted, pages first.

Only changed files are sent (`publish_plan`), so an update of one condition's data sends that
condition's files, the index and the pages. Pages have a short cache (60 s), so a CDN copy
missed by an invalidation a kill prevented is gone within a minute.
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from ctsite import lifecycle
from ctsite.aws import cloudfront, s3
from ctsite.aws.clients import ClientFactory
from ctsite.deploy.reporter import NULL, Reporter
from ctsite.deploy.static_site import record as records
from ctsite.deploy.static_site.destination import MARKER, previous_export
from ctsite.deploy.static_site.export_site import ExportResult, export_site
from ctsite.deploy.static_site.objects import SHA256_META, SiteFile, site_files
from ctsite.deploy.static_site.publish_plan import PublishPlan, Upload, plan_publish
from ctsite.deploy.static_site.source import SiteSource
from ctsite.errors import CtsiteError

JOBS = 8  # parallel PUTs of the hashed files


@dataclass(frozen=True)
class PublishResult:
    plan: PublishPlan
    dry_run: bool
    sent: int
    bytes_sent: int
    verified: int
    deleted: int
    invalidation: str | None  # the CloudFront invalidation's id
    url: str | None  # https://<distribution domain>/ when a distribution is configured
    seconds: float
    exported: ExportResult | None  # the export made for this publish (not with --from)


def check_export(site: Path) -> str | None:
    """Refuse (one line) a folder that is no complete export; its store version."""
    if not site.is_dir():
        raise CtsiteError(
            f"{site} is not a folder", hint="give the folder `ctsite export-site DIR` wrote"
        )
    if previous_export(site) is None or not (site / "index.html").is_file():
        raise CtsiteError(
            f"{site} is not an export of the site (no {MARKER} or index.html)",
            hint="write one with `ctsite export-site DIR`, or leave out --from to export now",
        )
    import json

    marker = json.loads((site / MARKER).read_text(encoding="utf-8"))
    version = marker.get("version")
    return version if isinstance(version, str) else None


class Sender:
    """Sends planned objects and reads each one back before it counts as sent."""

    def __init__(
        self, client: ClientFactory, bucket: str, files: dict[str, SiteFile], reporter: Reporter
    ):
        self.client, self.bucket, self.files, self.reporter = client, bucket, files, reporter
        self.sent = self.bytes = 0
        self.lock = threading.Lock()

    def send(self, upload: Upload) -> None:
        file = self.files[upload.key]
        body, encoding = file.stored
        s3.put_object(
            self.client, self.bucket, file.key, body,
            content_type=file.content_type, cache_control=file.cache_control,
            content_encoding=encoding, metadata={SHA256_META: file.sha256},
        )  # fmt: skip
        self.verify(file)
        self.reporter.advance("upload", len(body))

    def verify(self, file: SiteFile) -> None:
        """The object reads back as sent: size, headers, SHA-256 and (when S3's ETag is the
        MD5, i.e. not KMS-encrypted) the ETag."""
        held = s3.head(self.client, self.bucket, file.key)
        body, encoding = file.stored
        wrong = ""
        if held is None:
            wrong = "it is missing"
        elif held.size != len(body):
            wrong = f"{held.size} bytes instead of {len(body)}"
        elif held.metadata.get(SHA256_META) != file.sha256:
            wrong = "another SHA-256"
        elif (held.content_type, held.cache_control, held.content_encoding) != (
            file.content_type, file.cache_control, encoding,
        ):  # fmt: skip
            wrong = "other headers"
        elif held.encryption in ("", "AES256") and held.etag != md5(body):
            wrong = "another ETag"
        if wrong:
            raise CtsiteError(
                f"s3://{self.bucket}/{file.key} did not read back as sent: {wrong}",
            )
        with self.lock:
            self.sent += 1
            self.bytes += len(body)

    def send_all(self, uploads: list[Upload], jobs: int) -> None:
        """Send `uploads` on `jobs` threads; the first failure stops what has not started."""
        if not uploads:
            return
        pool = ThreadPoolExecutor(max_workers=max(1, jobs))
        try:
            for future in as_completed([pool.submit(self.send, u) for u in uploads]):
                future.result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def md5(body: bytes) -> str:
    return hashlib.md5(body, usedforsecurity=False).hexdigest()


def put_record(client: ClientFactory, bucket: str, record: records.Record) -> None:
    s3.put_object(
        client, bucket, records.KEY, record.to_bytes(),
        content_type="application/json", cache_control="no-store",
    )  # fmt: skip


def refuse_overwrites(plan: PublishPlan) -> None:
    """Never replace an object ctsite did not put there (what it held would be lost: the
    bucket keeps no versions): one line naming them, before anything is sent."""
    if not plan.overwrites:
        return
    shown = ", ".join(plan.overwrites[:3]) + (", …" if len(plan.overwrites) > 3 else "")
    raise CtsiteError(
        f"s3://{plan.bucket} holds {len(plan.overwrites)} object(s) ctsite did not put there "
        f"under names the site uses ({shown}): publishing would overwrite them",
        hint="publish to a bucket of its own (`ctsite provision apply --env static` makes "
        "one), or move those objects out of this bucket first",
    )


def confirm_present(client: ClientFactory, bucket: str, keys: set[str]) -> None:
    """Every file the new pages will name is in the bucket (one LIST per 1,000 objects)."""
    missing = sorted(keys - set(s3.list_sizes(client, bucket)))
    if missing:
        raise CtsiteError(
            f"{len(missing)} file(s) the new pages name are not in s3://{bucket} "
            f"(e.g. {missing[0]}): the pages were not switched",
            hint="another publish may be deleting files: run one publish at a time, then again",
        )


# What a publish stopped at each stage (Ctrl-C, a lost network, a failed read-back) leaves:
# the one line the CLI prints says it, so the operator knows the readers' site is whole.
LEFT = {
    "sending": "no page was switched: the site shows what it showed before; run publish-site "
    "again (the files sent so far are kept, not sent twice)",
    "switching": "the pages were being switched, each naming only files the bucket holds; run "
    "publish-site again to finish",
    "switched": "the new pages are live; run publish-site again to finish (CloudFront's copies "
    "of the pages, the old files)",
}


def carry_out(
    client: ClientFactory,
    plan: PublishPlan,
    files: list[SiteFile],
    jobs: int,
    reporter: Reporter,
) -> tuple[Sender, int, str | None]:
    """Steps 1–6 of the module docstring; (the sender, files deleted, invalidation id). A stop
    or an error on the way says what the site shows (`LEFT`)."""
    stage = ["sending"]
    try:
        return _carry_out(client, plan, files, jobs, reporter, stage)
    except KeyboardInterrupt as stop:
        raise lifecycle.with_outcome(stop, LEFT[stage[0]]) from None
    except CtsiteError as exc:
        exc.hint = LEFT[stage[0]] + (f"; {exc.hint}" if exc.hint else "")
        raise


def _carry_out(
    client: ClientFactory,
    plan: PublishPlan,
    files: list[SiteFile],
    jobs: int,
    reporter: Reporter,
    stage: list[str],
) -> tuple[Sender, int, str | None]:
    bucket = plan.bucket
    by_key = {f.key: f for f in files}
    new = frozenset(by_key)
    sender = Sender(client, bucket, by_key, reporter)
    begun = plan.record_before.begin(new)
    if plan.uploads and begun != plan.record_before:
        put_record(client, bucket, begun)
    reporter.task("upload", "Uploading", total=plan.upload_bytes)
    sender.send_all(plan.of_kind("hashed"), jobs)
    sender.send_all(plan.of_kind("index"), 1)
    sender.send_all(plan.of_kind("mutable"), jobs)
    if plan.uploads:
        confirm_present(client, bucket, {f.key for f in files if f.kind != "page"})
    stage[0] = "switching"
    for upload in plan.of_kind("page"):
        sender.send(upload)
    stage[0] = "switched"
    reporter.done()
    if plan.record_after != plan.record_before:
        put_record(client, bucket, plan.record_after)
    invalidation = None
    if plan.distribution_id and plan.invalidations:
        invalidation = cloudfront.invalidate(client, plan.distribution_id, list(plan.invalidations))
        reporter.info(f"CloudFront invalidation {invalidation}: {len(plan.invalidations)} path(s)")
    deleted = 0
    if plan.deletions:
        failed = frozenset(s3.delete_keys(client, bucket, list(plan.deletions)))
        deleted = len(plan.deletions) - len(failed)
        put_record(client, bucket, plan.record_after.cleaned(failed))
        if failed:
            reporter.warn(
                f"S3 refused to delete {len(failed)} old file(s); the next publish retries"
            )
    return sender, deleted, invalidation


def publish_site(
    bucket: str,
    distribution_id: str,
    client: ClientFactory,
    *,
    site: Path | None = None,
    store_path: Path | None = None,
    source_for: Callable[[Path], SiteSource] | None = None,
    dry_run: bool = False,
    jobs: int = JOBS,
    reporter: Reporter = NULL,
) -> PublishResult:
    """Publish the export `site` (or, without one, an export of the store at `store_path`
    made now with `source_for`, as `export_site` takes it) to `bucket`, and invalidate the
    switched pages on the CloudFront distribution `distribution_id` ("" : none)."""
    started = time.monotonic()
    if not bucket:
        raise CtsiteError(
            "no bucket to publish to: [static] bucket is not set",
            hint="set [static] bucket in ctsite.toml (`ctsite provision apply --env static` "
            "creates one), or pass --bucket",
        )
    version = check_export(site) if site is not None else None
    s3.check_bucket(client, bucket)
    url = None
    if distribution_id:
        url = f"https://{cloudfront.domain_name(client, distribution_id)}/"
    with tempfile.TemporaryDirectory(prefix="ctsite-publish-") as temp:
        exported = None
        if site is None:
            if store_path is None or source_for is None:
                raise ValueError("publish_site needs a site folder, or a store and its source")
            exported = export_site(Path(temp) / "site", store_path, source_for, reporter=reporter)
            site, version = exported.directory, exported.version
        files = site_files(site)
        plan = plan_publish(client, bucket, distribution_id, files, version)
        refuse_overwrites(plan)
        reporter.info(
            f"{len(plan.uploads)} file(s) to send, {plan.unchanged} unchanged, "
            f"{len(plan.deletions)} old file(s) to delete"
        )
        if dry_run or plan.empty:
            return PublishResult(
                plan, dry_run, 0, 0, 0, 0, None, url, time.monotonic() - started, exported
            )
        sender, deleted, invalidation = carry_out(client, plan, files, jobs, reporter)
    return PublishResult(
        plan=plan,
        dry_run=False,
        sent=sender.sent,
        bytes_sent=sender.bytes,
        verified=sender.sent,
        deleted=deleted,
        invalidation=invalidation,
        url=url,
        seconds=time.monotonic() - started,
        exported=exported,
    )
