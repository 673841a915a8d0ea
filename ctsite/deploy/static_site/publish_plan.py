"""What a publish of an exported site to its bucket would do: the plan `publish-site` prints
under --dry-run and then carries out.

The bucket is compared with the export by content, cheaply: a content-hashed key already in
the bucket's listing is the same file (no request beyond the LIST); a page or another file
with a fixed name is read back with one HEAD and compared by the SHA-256 kept in its metadata
(and its headers). An object of someone else's under a name the export uses (not in the
publish record, no SHA-256 of ctsite's) is listed in `overwrites`: the publish refuses it.
Nothing here writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ctsite.aws import s3
from ctsite.aws.clients import ClientFactory
from ctsite.aws.s3 import ObjectHead
from ctsite.deploy.static_site import record as records
from ctsite.deploy.static_site.objects import SHA256_META, SiteFile, kind_of, page_paths
from ctsite.deploy.static_site.record import Record

SEND_ORDER = ("hashed", "index", "mutable", "page")


@dataclass(frozen=True)
class Upload:
    """One object to send: its key, kind (`objects.KINDS`), stored size and headers, and why
    ("new": not in the bucket; "changed": other bytes or headers there)."""

    key: str
    kind: str
    bytes: int
    content_type: str
    content_encoding: str
    reason: str


@dataclass(frozen=True)
class PublishPlan:
    bucket: str
    distribution_id: str
    version: str | None  # the exported store version
    uploads: tuple[Upload, ...]  # in the order they are sent
    unchanged: int
    deletions: tuple[str, ...]  # pages first
    invalidations: tuple[str, ...]  # viewer paths of the pages (never a hashed file)
    foreign: int  # objects in the bucket ctsite did not put there: left alone
    overwrites: tuple[str, ...]  # keys of such objects a send would replace (it must not)
    record_before: Record
    record_after: Record

    @property
    def upload_bytes(self) -> int:
        return sum(u.bytes for u in self.uploads)

    @property
    def empty(self) -> bool:
        """Nothing to send, delete or record: the bucket already is this export."""
        return not self.uploads and not self.deletions and self.record_after == self.record_before

    def of_kind(self, kind: str) -> list[Upload]:
        return [u for u in self.uploads if u.kind == kind]

    def to_json(self) -> dict[str, object]:
        return {
            "bucket": self.bucket,
            "distribution_id": self.distribution_id,
            "version": self.version,
            "uploads": self.uploads,
            "upload_bytes": self.upload_bytes,
            "unchanged": self.unchanged,
            "deletions": self.deletions,
            "invalidations": self.invalidations,
            "foreign": self.foreign,
            "overwrites": self.overwrites,
        }


def held_by_bucket(
    file: SiteFile, remote: dict[str, int], client: ClientFactory, bucket: str
) -> ObjectHead | None:
    """What the bucket holds at a page's or fixed-name file's key (one HEAD); None for a key
    not there, or a content-hashed one (its name is its content: nothing to read)."""
    if file.key not in remote or file.kind in ("hashed", "index"):
        return None
    return s3.head(client, bucket, file.key)


def unchanged(file: SiteFile, remote: dict[str, int], held: ObjectHead | None) -> bool:
    """Whether the bucket already holds `file` as a publish would store it."""
    if file.key not in remote:
        return False
    if file.kind in ("hashed", "index"):
        return True  # the name is the content
    body, encoding = file.stored
    return (
        held is not None
        and held.metadata.get(SHA256_META) == file.sha256
        and held.size == len(body)
        and held.content_type == file.content_type
        and held.cache_control == file.cache_control
        and held.content_encoding == encoding
    )


def foreign_object(key: str, held: ObjectHead | None, ours: frozenset[str]) -> bool:
    """An object ctsite did not put there: neither in the publish record nor carrying the
    SHA-256 every object ctsite sends keeps in its metadata (so a lost record is no reason)."""
    return held is not None and key not in ours and SHA256_META not in held.metadata


def deletion_order(key: str) -> tuple[int, str]:
    """Pages go first: a page is never left naming a file already deleted."""
    rank = {"page": 0, "index": 1}
    return (rank.get(kind_of(key), 2), key)


def plan_publish(
    client: ClientFactory,
    bucket: str,
    distribution_id: str,
    files: Sequence[SiteFile],
    version: str | None,
) -> PublishPlan:
    """Compare the export `files` with the bucket (which must exist) and its publish record."""
    remote = s3.list_sizes(client, bucket)
    before = records.parse(s3.get_object(client, bucket, records.KEY), bucket)
    new = frozenset(f.key for f in files)
    ours = before.ours()
    sends: list[Upload] = []
    overwrites: list[str] = []
    same = 0
    for file in sorted(files, key=lambda f: (SEND_ORDER.index(f.kind), f.key)):
        held = held_by_bucket(file, remote, client, bucket)
        if unchanged(file, remote, held):
            same += 1
            continue
        if foreign_object(file.key, held, ours):
            overwrites.append(file.key)
        body, encoding = file.stored
        reason = "changed" if file.key in remote else "new"
        sends.append(Upload(file.key, file.kind, len(body), file.content_type, encoding, reason))
    if not sends and before.live == new and not before.pending:
        after = before  # nothing changed: the generations stay as they are
    else:
        after = before.begin(new).switched(new)
    switched_pages = [u.key for u in sends if u.kind == "page"]
    if after.live != before.live and not switched_pages:
        # a publish stopped after its pages switched: they were never invalidated
        switched_pages = sorted(f.key for f in files if f.kind == "page")
    paths = [p for key in switched_pages for p in page_paths(key)]
    foreign = set(remote) - ours - new - {records.KEY}
    return PublishPlan(
        bucket=bucket,
        distribution_id=distribution_id,
        version=version,
        uploads=tuple(sends),
        unchanged=same,
        deletions=tuple(sorted(after.retired & set(remote), key=deletion_order)),
        invalidations=tuple(dict.fromkeys(paths)),
        foreign=len(foreign),
        overwrites=tuple(overwrites),
        record_before=before,
        record_after=after,
    )
