"""The precomputed default views: their file layout in the store, their writer, and the
`ctsite figures` workflow that writes them.

`ctsite figures` (and the release's figures step) writes the default view of every figure for
every condition (and, for a figure laid out per width class, every class) into the store's figure cache directory
(`<store>/figures/<figure>-<condition id>-<digest>.json`, Plotly JSON, never a pickle) with its
static SVG picture beside it; the web app reads those files for default requests
(`read_view`) until its in-memory cache (`ctsite.web.cache`) holds them.
These files are a cache of the verified store, so they are verified too: `ctsite figures` writes
`SHA256SUMS` (each file's SHA-256, in `sha256sum`'s format, so `sha256sum -c` checks them
too) last, and a reader serves a file only when its bytes match the
index; a missing, cut or changed file (or no index) is a miss, and the view is computed again
from the store, never served wrong. The layout lives here, with the figures, so the compile and release workflows never import the
web package and the web imports the layout from one place.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from plotly.utils import PlotlyJSONEncoder

from ctsite import __version__
from ctsite.deploy.reporter import NULL, Reporter

try:  # optional speed-up, not required by the slim image
    import orjson
except ImportError:  # pragma: no cover - depends on the environment
    orjson = None  # type: ignore[assignment]

log = logging.getLogger(__name__)
INDEX = "SHA256SUMS"  # "<sha256>  <file name>" per view file and picture, written last

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


@dataclasses.dataclass(frozen=True)
class View:
    """A precomputed view as read back: its document and its static picture (None: redraw)."""

    body: bytes
    picture: str | None


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_index(directory: Path) -> dict[str, str]:
    """File name → the SHA-256 `ctsite figures` recorded ({} when there is no readable index)."""
    try:
        text = (directory / INDEX).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    found: dict[str, str] = {}
    for line in text.splitlines():
        digest, sep, name = line.partition("  ")
        if sep and len(digest) == 64 and name and "/" not in name:
            found[name] = digest
    return found


def _verified(path: Path, expected: object) -> bytes | None:
    """The file's bytes when they hash to `expected`, else None (logged when present)."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if not isinstance(expected, str) or _digest(data) != expected:
        log.warning(
            "precomputed view %s does not match its recorded SHA-256 (damaged?): computing "
            "the view from the store instead; `ctsite figures` writes it again",
            path,
        )
        return None
    return data


def read_view(path: Path, index: dict[str, str] | None = None) -> View | None:
    """The precomputed view at `path` when its bytes are the ones `ctsite figures` recorded;
    None when it is absent, unrecorded or damaged (then the view is computed)."""
    if index is None:
        index = read_index(path.parent)
    if path.name not in index:
        return None
    body = _verified(path, index[path.name])
    if body is None:
        return None
    picture = _verified(picture_path(path), index.get(picture_path(path).name))
    return View(body, picture.decode("utf-8") if picture is not None else None)


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
    store: Any, on_done: Callable[[str, str, int, float, str], None] | None = None
) -> list[Path]:
    """Write the default view of every figure for every condition it accepts (and every width
    class it is laid out for).

    `on_done(figure, condition name, bytes, seconds, width class or "")` is called after each
    file is written.
    """
    from ctsite.figures import FIGURES, parse_params

    written: list[Path] = []
    index: dict[str, str] = {}
    directory = store.figure_cache_dir()
    (directory / INDEX).unlink(missing_ok=True)  # nothing is trusted while views are rewritten
    for name, spec in FIGURES.items():
        control = next((c for c in spec.controls if c.kind == "condition"), None)
        single_only = bool(control and control.single_condition_only)
        for condition in store.conditions:
            if single_only and condition.kind != "single":
                continue
            for size in spec.sizes or (None,):  # a view per width class (its key has it)
                started = time.perf_counter()
                query = {"condition": condition.name} | ({"size": size} if size else {})
                params = parse_params(spec, store, query)
                result = spec.build(store, params)
                key = canonical_key(params)
                path = precomputed_path(directory, name, condition.id, store.fingerprint, key)
                body = encode_json(figure_document(name, store, params, result))
                picture = picture_svg(result.figure, spec.title).encode("utf-8")
                _write_atomically(path, body)
                _write_atomically(picture_path(path), picture)
                index[path.name] = _digest(body)
                index[picture_path(path).name] = _digest(picture)
                written.append(path)
                if on_done:
                    seconds = time.perf_counter() - started
                    on_done(name, condition.name, len(body), seconds, size or "")
    for old in iter_precomputed(directory):
        if old not in written:
            old.unlink(missing_ok=True)  # views of an older store or older defaults
            picture_path(old).unlink(missing_ok=True)
    sums = "".join(f"{digest}  {name}\n" for name, digest in sorted(index.items()))
    _write_atomically(directory / INDEX, sums.encode())
    return written


def iter_precomputed(directory: Path) -> Iterator[Path]:
    if directory.is_dir():
        yield from sorted(directory.glob("*.json"))


# ---------------------------------------------------------------- the `ctsite figures` workflow


@dataclasses.dataclass(frozen=True)
class FigureFile:
    figure: str
    condition: str
    bytes: int
    seconds: float
    size: str = ""  # the width class ("" for a figure laid out at any width)


@dataclasses.dataclass(frozen=True)
class FiguresResult:
    directory: Path
    figures: list[FigureFile]


def precompute_figures(store_path: Path, reporter: Reporter = NULL) -> FiguresResult:
    """Write the default view of every figure (Plotly JSON) into the store."""
    from ctsite.store import Store

    store = Store.open(store_path)
    written: list[FigureFile] = []

    def done(figure: str, condition: str, nbytes: int, seconds: float, size: str) -> None:
        written.append(FigureFile(figure, condition, nbytes, seconds, size))
        where = f" ({size})" if size else ""
        reporter.info(
            f"{figure} {condition}{where}: {nbytes / 1024:.1f} KiB in {seconds * 1000:.0f} ms"
        )

    precompute_defaults(store, on_done=done)
    return FiguresResult(store.figure_cache_dir(), written)
