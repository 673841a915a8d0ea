"""Caching of computed figures: an in-memory LRU and the precomputed default views on disk.

An entry holds everything a response needs, already encoded (JSON bytes, their gzip, an ETag),
so a cached request costs a dictionary lookup. Keys are (store fingerprint, figure name,
canonical parameters): a rebuilt store never serves stale figures.

`ctsite figures` writes the default view of every figure for every condition into the store's
figure cache directory (`<store>/figures/<figure>-<condition id>.json`, Plotly JSON, never a
pickle); the app serves those files for default requests until the LRU holds them.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from plotly.utils import PlotlyJSONEncoder

from ctsite import __version__

try:  # optional speed-up, not required by the slim image
    import orjson
except ImportError:  # pragma: no cover - depends on the environment
    orjson = None  # type: ignore[assignment]

GZIP_LEVEL = 6
FAST_GZIP_BYTES = 512 * 1024
MAX_CACHE_BYTES = 256 * 1024 * 1024  # per process; a circos view of real data is ~3 MB
_ORJSON_OPTIONS = (
    (orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS) if orjson is not None else 0
)


def canonical_key(params: dict[str, Any]) -> str:
    """A stable text form of validated parameters (sorted keys, lists kept in order)."""
    return json.dumps(params, sort_keys=True, separators=(",", ":"), cls=PlotlyJSONEncoder)


def encode_json(document: dict[str, Any]) -> bytes:
    """Compact JSON of a figure document; numpy arrays/scalars allowed, NaN becomes null.

    orjson (when installed) is ~10× faster on large figures; Plotly's encoder is the fallback.
    """
    if orjson is not None:
        try:
            return orjson.dumps(document, option=_ORJSON_OPTIONS)
        except TypeError:
            pass  # a type orjson does not know (e.g. an object array): use Plotly's encoder
    return json.dumps(document, separators=(",", ":"), cls=PlotlyJSONEncoder).encode("utf-8")


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

    def __post_init__(self) -> None:
        if not self.etag:
            self.etag = hashlib.sha256(self.body).hexdigest()[:32]
        table_bytes = 0 if self.table is None else int(self.table.memory_usage(deep=True).sum())
        # the body, its gzip (about a tenth), the page's static picture once drawn (less than half
        # the body for a large Circos, the figure that matters for memory) and the table
        self.nbytes = len(self.body) + len(self.body) // 8 + len(self.body) // 2 + table_bytes

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


def preview_title(title: str) -> str:
    """The accessible name of a figure's static picture."""
    return f"{title} (static picture of the current view)"


def picture_svg(figure: dict[str, Any] | None, title: str) -> str:
    from ctsite.figures.preview import figure_svg

    return figure_svg(figure or {"data": [], "layout": {}}, preview_title(title))


def picture_path(path: Path) -> Path:
    """The static picture stored beside a precomputed view."""
    return path.with_suffix(".svg")


def precomputed_path(
    directory: Path, figure: str, condition_id: str, fingerprint: str, params_key: str
) -> Path:
    """Where a precomputed view lives: the figure, the condition id (from the manifest) and a
    digest of ctsite's version, the store fingerprint and the parameters, so a stale or
    different view is never read."""
    text = f"{__version__}\n{fingerprint}\n{params_key}"  # a new ctsite redraws the figures
    digest = hashlib.sha256(text.encode()).hexdigest()[:20]
    return directory / f"{figure}-{condition_id}-{digest}.json"


def write_precomputed(path: Path, document: dict[str, Any]) -> int:
    """Write a figure document atomically (temp file + rename); returns its size in bytes."""
    return _write_atomically(path, encode_json(document))


def _write_atomically(path: Path, data: bytes) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return len(data)


def read_precomputed(path: Path) -> bytes | None:
    """The stored document, or None when there is none."""
    try:
        return path.read_bytes()
    except OSError:
        return None


def read_picture(path: Path) -> str | None:
    """The static picture stored beside a precomputed view, or None."""
    try:
        return picture_path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def figure_document(name: str, store: Any, params: dict[str, Any], result: Any) -> dict[str, Any]:
    """The JSON document the API serves for one figure (also what precomputed files hold)."""
    return {
        "name": name,
        "params": params,
        "params_key": canonical_key(params),
        "fingerprint": store.fingerprint,
        "message": result.message,
        "figure": result.figure,
    }


def precompute_defaults(
    store: Any, on_done: Callable[[str, str, int, float], None] | None = None
) -> list[Path]:
    """Write the default view of every figure for every condition it accepts.

    `on_done(figure, condition name, bytes, seconds)` is called after each file is written.
    """
    from ctsite.figures import FIGURES, parse_params

    written: list[Path] = []
    directory = store.figure_cache_dir()
    for name, spec in FIGURES.items():
        control = next((c for c in spec.controls if c.kind == "condition"), None)
        single_only = bool(control and control.single_condition_only)
        for condition in store.conditions:
            if single_only and condition.kind != "single":
                continue
            started = time.perf_counter()
            params = parse_params(spec, store, {"condition": condition.name})
            result = spec.build(store, params)
            key = canonical_key(params)
            path = precomputed_path(directory, name, condition.id, store.fingerprint, key)
            size = write_precomputed(path, figure_document(name, store, params, result))
            picture = picture_svg(result.figure, spec.title).encode("utf-8")
            _write_atomically(picture_path(path), picture)
            written.append(path)
            if on_done:
                on_done(name, condition.name, size, time.perf_counter() - started)
    for old in iter_precomputed(directory):
        if old not in written:
            old.unlink(missing_ok=True)  # views of an older store or older defaults
            picture_path(old).unlink(missing_ok=True)
    return written


def iter_precomputed(directory: Path) -> Iterator[Path]:
    if directory.is_dir():
        yield from sorted(directory.glob("*.json"))
