"""The publish record: which objects of the bucket ctsite put there, and which pages may still
name them — so a publish deletes only its own old files, and never one a live page names.

Stored in the bucket itself (`.ctsite-publish.json`, the state travels with the site):

    live     the keys of the export the pages now show
    grace    the keys of the generation before (and of any publish stopped before its pages all
             switched): a reader mid-visit, or a page cached by the CDN for a minute, still
             loads them; deleted one publish later
    pending  the keys of a publish under way: written BEFORE its first upload, so the objects
             of a publish killed half-way are known to be ours and swept later
    retired  keys due for deletion (written before deleting, so a publish killed while deleting
             leaves them to the next one)

A key in no set is not ctsite's (or no longer tracked) and is never deleted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from ctsite.errors import CtsiteError

KEY = ".ctsite-publish.json"
RECORD_VERSION = 1
SETS = ("live", "grace", "pending", "retired")


@dataclass(frozen=True)
class Record:
    live: frozenset[str] = field(default_factory=frozenset)
    grace: frozenset[str] = field(default_factory=frozenset)
    pending: frozenset[str] = field(default_factory=frozenset)
    retired: frozenset[str] = field(default_factory=frozenset)

    def begin(self, new: frozenset[str]) -> Record:
        """Before the first upload of a publish of `new`."""
        return replace(self, pending=self.pending | new)

    def switched(self, new: frozenset[str]) -> Record:
        """Once every page of `new` is in the bucket: the old live keys (and any stopped
        publish's) get one generation of grace; the grace before is retired."""
        grace = (self.live | self.pending) - new
        retired = (self.grace | self.retired) - new - grace
        return Record(live=new, grace=grace, pending=frozenset(), retired=retired)

    def cleaned(self, failed: frozenset[str]) -> Record:
        """After the retired keys were deleted (`failed`: those S3 refused, kept for later)."""
        return replace(self, retired=self.retired & failed)

    def ours(self) -> frozenset[str]:
        return self.live | self.grace | self.pending | self.retired

    def to_bytes(self) -> bytes:
        doc: dict[str, Any] = {"record_version": RECORD_VERSION, "kind": "ctsite publish-site"}
        doc.update({name: sorted(getattr(self, name)) for name in SETS})
        return (json.dumps(doc, indent=1) + "\n").encode("utf-8")


def parse(body: bytes | None, bucket: str) -> Record:
    """The record read from the bucket (empty when there is none)."""
    if body is None:
        return Record()
    try:
        doc = json.loads(body.decode("utf-8"))
        if doc.get("record_version") != RECORD_VERSION:
            raise ValueError(f"record_version {doc.get('record_version')!r}")
        sets = {name: doc.get(name, []) for name in SETS}
        if not all(
            isinstance(v, list) and all(isinstance(k, str) for k in v) for v in sets.values()
        ):
            raise ValueError("a set is not a list of keys")
    except (ValueError, AttributeError) as exc:
        raise CtsiteError(
            f"s3://{bucket}/{KEY} is not a publish record this ctsite reads ({exc})",
            hint="publish to a bucket of its own; a newer ctsite may have written it",
        ) from None
    return Record(**{name: frozenset(v) for name, v in sets.items()})
