"""The in-memory cache of computed figures: a thread-safe LRU of ready-to-send entries.

An entry holds everything a response needs, already encoded (JSON bytes, their gzip, an ETag),
so a cached request costs a dictionary lookup. Keys are (store fingerprint, figure name,
canonical parameters): a rebuilt store never serves stale figures. The precomputed default
views on disk (their layout, writer and reader) are `ctsite.figures.precomputed`.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ctsite.figures.precomputed import picture_svg, preview_title
from ctsite.figures.preview import figure_svg

try:  # optional speed-up, not required by the slim image
    import orjson
except ImportError:  # pragma: no cover - depends on the environment
    orjson = None  # type: ignore[assignment]

GZIP_LEVEL = 6
FAST_GZIP_BYTES = 512 * 1024
MAX_CACHE_BYTES = 256 * 1024 * 1024  # per process; a circos view of real data is ~3 MB
PHONE_WIDTH = 360  # px: the phone picture is laid out this wide (a 390 px screen's card)


@dataclass
class Entry:
    """One computed figure, ready to send."""

    body: bytes  # the JSON document {figure, message, params, ...}
    table: pd.DataFrame | None = None  # rows behind the figure (None for a precomputed file)
    etag: str = ""
    nbytes: int = 0
    _gzip: bytes | None = field(default=None, repr=False)
    _csv: bytes | None = field(default=None, repr=False)
    _height: int | None = field(default=None, repr=False)
    _message: str | None = field(default=None, repr=False)
    picture: str | None = field(default=None, repr=False)  # the static SVG, once drawn or read
    phone_picture: str | None = field(default=None, repr=False)  # the same, laid out for a phone

    def __post_init__(self) -> None:
        if not self.etag:
            self.etag = hashlib.sha256(self.body).hexdigest()[:32]
        table_bytes = 0 if self.table is None else int(self.table.memory_usage(deep=True).sum())
        # the body, its gzip (about a tenth), the page's static picture once drawn (less than half
        # the body for a large Circos, the figure that matters for memory) and the table
        # (twice: the desktop and the phone picture)
        self.nbytes = len(self.body) + len(self.body) // 8 + len(self.body) + table_bytes

    @property
    def gzipped(self) -> bytes:
        if self._gzip is None:
            # big figures: level 1 is 3-4× faster for ~15% more bytes (first request matters)
            level = 1 if len(self.body) > FAST_GZIP_BYTES else GZIP_LEVEL
            self._gzip = gzip.compress(self.body, compresslevel=level, mtime=0)
        return self._gzip

    @property
    def layout_height(self) -> int | None:
        """The figure's own height in pixels (what the page reserves for it), if it has one."""
        if self._height is None:
            self._read_document()
        return self._height or None

    @property
    def message(self) -> str | None:
        """The figure's message ("No interactions — …"), if it has one."""
        if self._height is None:
            self._read_document()
        return self._message

    def document(self) -> dict[str, Any]:
        return orjson.loads(self.body) if orjson is not None else json.loads(self.body)

    def _read_document(self, document: dict[str, Any] | None = None) -> dict[str, Any]:
        document = self.document() if document is None else document
        height = ((document.get("figure") or {}).get("layout") or {}).get("height")
        self._height = int(height) if isinstance(height, int | float) else 0
        message = document.get("message")
        self._message = message if isinstance(message, str) else None
        return document

    def preview(self, title: str) -> str:
        """The static SVG picture of the figure (read with a precomputed view, else drawn once
        per entry)."""
        if self.picture is None:
            self.picture = picture_svg(self._read_document().get("figure"), title)
        return self.picture

    def phone_preview(self, title: str) -> str:
        """The picture laid out PHONE_WIDTH px wide (Plotly keeps fonts and margins in pixels,
        so a phone's figure is not the desktop one shrunk), drawn once per entry; its ids are
        its own (both pictures are in one page)."""
        if self.phone_picture is None:
            figure = self._read_document().get("figure") or {"data": [], "layout": {}}
            svg = figure_svg(figure, preview_title(title), PHONE_WIDTH)
            self.phone_picture = svg.replace(' id="', ' id="phone-').replace("url(#", "url(#phone-")
        return self.phone_picture

    def csv(self) -> bytes:
        if self._csv is None:
            table = self.table if self.table is not None else pd.DataFrame()
            self._csv = table.to_csv(index=False, lineterminator="\n").encode("utf-8")
        return self._csv


class FigureCache:
    """A thread-safe LRU of `Entry` objects, bounded by entry count and by bytes held."""

    def __init__(self, size: int, max_bytes: int = MAX_CACHE_BYTES) -> None:
        self.size = max(0, size)
        self.max_bytes = max_bytes
        self.nbytes = 0
        self._items: OrderedDict[tuple[str, str, str], Entry] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[str, str, str]) -> Entry | None:
        with self._lock:
            entry = self._items.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return entry

    def put(self, key: tuple[str, str, str], entry: Entry) -> None:
        if self.size == 0:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.nbytes -= old.nbytes
            self._items[key] = entry
            self.nbytes += entry.nbytes
            while len(self._items) > 1 and (
                len(self._items) > self.size or self.nbytes > self.max_bytes
            ):
                _, dropped = self._items.popitem(last=False)
                self.nbytes -= dropped.nbytes

    def __len__(self) -> int:
        return len(self._items)
