"""The scripts and static files the pages load, and the versions that bust browser caches.

plotly.js comes in two builds. The partial bundle (`static/vendor/plotly-partial.min.js`: only
the scatter, scatterpolar and barpolar traces the figures use, about a quarter of the full
library) is built from the npm registry at image build time by `web-assets/` and is never in the
repository. When it is absent (a plain checkout, `ctsite serve` anywhere), the pages load the full
plotly.min.js of the installed `plotly` Python package instead. Either is read once per process
and kept with its gzip and an ETag.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from ctsite import __version__

STATIC = Path(__file__).resolve().parent / "static"
PARTIAL_BUNDLE = STATIC / "vendor" / "plotly-partial.min.js"
# the static site's browser engine (web-assets/engine/), built like the partial bundle
ENGINE_BUNDLE = STATIC / "vendor" / "ctsite-engine.js"
FULL_NAME = "plotly.min.js"


@dataclass(frozen=True)
class Script:
    """One JavaScript file ready to send: its URL name, bytes, gzip and ETag."""

    filename: str
    raw: bytes
    gzipped: bytes
    etag: str

    @property
    def partial(self) -> bool:
        return self.filename != FULL_NAME


def full_plotly_js() -> bytes:
    """plotly.min.js as shipped in the plotly Python package."""
    try:
        return (resources.files("plotly") / "package_data" / FULL_NAME).read_bytes()
    except (FileNotFoundError, OSError):
        from plotly.offline import get_plotlyjs

        return get_plotlyjs().encode("utf-8")


@cache
def plotly_script(partial_bundle: Path | None) -> Script:
    """The partial bundle when that file exists, else the full bundle of the plotly package."""
    if partial_bundle is not None and partial_bundle.is_file():
        filename, raw = partial_bundle.name, partial_bundle.read_bytes()
    else:
        filename, raw = FULL_NAME, full_plotly_js()
    return Script(
        filename=filename,
        raw=raw,
        gzipped=gzip.compress(raw, compresslevel=9, mtime=0),
        etag=hashlib.sha256(raw).hexdigest()[:20],
    )


@cache
def asset_version(static_folder: str) -> str:
    """A digest of ctsite's version and the static files (the `v=` of their URLs)."""
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(Path(static_folder).glob("*")):
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]
