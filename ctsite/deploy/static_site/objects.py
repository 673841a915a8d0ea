"""The exported site's files as bucket objects: each one's kind, headers and stored bytes.

Kinds, in the order a publish sends them:
  hashed   static/, pictures/ and data/ files named by their content (`style.<hash>.css`,
           `data/<sha256>.arrow`): never change under their name, cached for a year
           (`immutable`); a key already in the bucket is the same file, so it is never re-sent
  index    data/store.<hash>.json, the data index the pages name: hashed too, sent after the
           files it names
  mutable  files with a fixed name (downloads/*.csv, CITATION.cff, citation.bib): short cache
  page     *.html: short cache, sent last (each page switch is one PUT)

Compression: CloudFront compresses on the fly (gzip or brotli, whichever the browser takes) the
types on its list, 1 kB to 10 MB — HTML, scripts, CSS, SVG, JSON, CSV. Its list holds neither
Arrow (`application/vnd.apache.arrow.file`) nor `application/octet-stream` (.npy), which are most
of the bytes, nor anything over 10 MB: those are stored gzipped (`Content-Encoding: gzip`, which
every browser's fetch decodes, over HTTP too, where browsers refuse brotli) when that makes them
smaller. Everything else is stored as exported, so CloudFront still picks brotli for it.
The gzip stream is deterministic (no name, mtime 0) so the same file always stores the same bytes.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import posixpath
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from ctsite.deploy.static_site.destination import MARKER

IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=60, must-revalidate"
SHA256_META = "sha256"  # user metadata (x-amz-meta-sha256): the exported file's SHA-256
HASHED_FOLDERS = ("static/", "pictures/", "data/")
HASHED_NAME = re.compile(r"(^|\.)[0-9a-f]{16,64}\.[A-Za-z0-9]+$")
INDEX_NAME = re.compile(r"^data/store\.[0-9a-f]{16}\.json$")
SKIPPED = frozenset({MARKER, ".nojekyll"})  # the export's own bookkeeping, GitHub Pages' flag
CDN_COMPRESSES_UP_TO = 10_000_000
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "application/javascript",
    ".mjs": "application/javascript",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".arrow": "application/vnd.apache.arrow.file",
    ".npy": "application/octet-stream",
    ".csv": "text/csv; charset=utf-8",
    ".cff": "application/x-yaml; charset=utf-8",  # as the server sends CITATION.cff
    ".bib": "application/x-bibtex; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}
# the types CloudFront does not compress (its list of compressible types holds neither)
NOT_COMPRESSED_BY_CDN = frozenset({".arrow", ".npy"})
KINDS = ("hashed", "index", "mutable", "page")


def kind_of(key: str) -> str:
    """hashed, index, mutable or page (the module docstring)."""
    if INDEX_NAME.match(key):
        return "index"
    name = posixpath.basename(key)
    if key.startswith(HASHED_FOLDERS) and HASHED_NAME.search(name):
        return "hashed"
    return "page" if key.endswith(".html") else "mutable"


def content_type(key: str) -> str:
    suffix = posixpath.splitext(key)[1].lower()
    if suffix in CONTENT_TYPES:
        return CONTENT_TYPES[suffix]
    guessed, _ = mimetypes.guess_type(key)
    return guessed or "application/octet-stream"


def cache_control(key: str) -> str:
    return IMMUTABLE if kind_of(key) in ("hashed", "index") else SHORT


def compress(key: str, body: bytes) -> tuple[bytes, str]:
    """The bytes to store for `key` and their Content-Encoding ("" when stored as exported)."""
    suffix = posixpath.splitext(key)[1].lower()
    if suffix not in NOT_COMPRESSED_BY_CDN and len(body) <= CDN_COMPRESSES_UP_TO:
        return body, ""
    packed = gzip.compress(body, compresslevel=9, mtime=0)
    return (packed, "gzip") if len(packed) < len(body) else (body, "")


@dataclass(frozen=True)
class SiteFile:
    """One file of the export and the object it becomes."""

    key: str
    path: Path

    @property
    def kind(self) -> str:
        return kind_of(self.key)

    @cached_property
    def raw(self) -> bytes:
        return self.path.read_bytes()

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()

    @cached_property
    def stored(self) -> tuple[bytes, str]:
        """(the object's bytes, its Content-Encoding)."""
        return compress(self.key, self.raw)

    @property
    def content_type(self) -> str:
        return content_type(self.key)

    @property
    def cache_control(self) -> str:
        return cache_control(self.key)


def site_files(site: Path) -> list[SiteFile]:
    """Every file of the export folder `site` that a host serves, by key."""
    found = []
    for path in sorted(site.rglob("*")):
        key = path.relative_to(site).as_posix()
        if path.is_file() and not path.is_symlink() and key not in SKIPPED:
            found.append(SiteFile(key, path))
    return found


def page_paths(key: str) -> list[str]:
    """The viewer paths a page answers (what an invalidation names): `index.html` is `/` and
    `/index.html`; `circos/index.html` is `/circos`, `/circos/` and the file (`/circos*`)."""
    if key == "index.html":
        return ["/", "/index.html"]
    if key.endswith("/index.html"):
        return [f"/{key[: -len('/index.html')]}*"]
    return [f"/{key}"]
