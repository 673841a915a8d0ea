"""What the static-site export needs from the website: the answer to a GET of one of its URLs.

The workflow never imports the web layer (tests/test_layers.py); the CLI hands it a `SiteSource`
built from the Flask app (`ctsite.web.snapshot.AppSnapshot`), so the exported pages are the
server's own pages, byte for byte, before their URLs are made relative.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class Fetched(Protocol):
    """One answer of the website: status, media type, body and its download name (from
    Content-Disposition: a CSV or citation download; "" when none)."""

    @property
    def status(self) -> int: ...

    @property
    def mimetype(self) -> str: ...

    @property
    def body(self) -> bytes: ...

    @property
    def filename(self) -> str: ...


class SiteSource(Protocol):
    """The website of one store version, asked in-process."""

    def get(self, url: str) -> Fetched:
        """GET `url` (a path on the site, with its query) as a browser would."""
        ...

    def engine_bundle(self) -> Path | None:
        """The built browser engine (`vendor/ctsite-engine.js`), or None when it was not built."""
        ...

    def citation(self) -> str:
        """The dataset's CITATION.cff, even when the site offers none (an archive needs one)."""
        ...
