"""The exported site as one ZIP file a repository accepts (Zenodo, Dryad, a lab's archive).

The archive holds the site's folder (one top folder, so unpacking never scatters files) plus
what a reader years later needs to open and cite it: README.txt (what it is, which store
version, how to open it), CITATION.cff and the store's manifest.json. It is written to a
temporary name beside the target, tested, and only then renamed over it.
"""

from __future__ import annotations

import json
import os
import stat
import textwrap
import zipfile
from pathlib import Path
from typing import Any

from ctsite import __version__
from ctsite.errors import CtsiteError

PORT = 8000


def check_archive_path(archive: Path, site: Path) -> None:
    """Refuse (one line) a path the archive cannot be written to."""
    if archive.suffix.lower() != ".zip":
        raise CtsiteError(f"{archive}: the archive's name must end in .zip", hint="e.g. site.zip")
    try:
        mode = os.stat(archive).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise CtsiteError(f"cannot write {archive}: {exc.strerror}") from None
    if mode is not None and not stat.S_ISREG(mode):
        raise CtsiteError(f"cannot write {archive}: it is not a file", hint="give a file name")
    resolved, root = archive.resolve(), site.resolve()
    if resolved == root or root in resolved.parents:
        raise CtsiteError(
            f"{archive} is inside the site folder {site}", hint="write the archive elsewhere"
        )
    if not archive.parent.is_dir():
        raise CtsiteError(
            f"cannot write {archive}: the folder {archive.parent} does not exist",
            hint="create it first, or choose another path",
        )


def readme(title: str, version: str | None, folder: str, engine: bool) -> str:
    """README.txt: what the archive is and how to open it."""
    about = (
        f"This is the website of {title!r} as plain files, exported by ctsite {__version__} "
        f"from the compiled store version {version or '(unversioned)'}. "
    )
    if engine:
        about += (
            "Its pages compute every figure in the web browser from the files in data/; "
            "they fetch nothing from any other site."
        )
    else:
        about += (
            "This export has no figure engine (static/vendor/ctsite-engine.*.js): its pages "
            "show each figure's default view as a picture, without interactive controls."
        )
    lines = [
        f"{title}: the website as static files",
        "",
        *textwrap.wrap(about, 92, break_on_hyphens=False, break_long_words=False),
    ]
    lines += [
        "",
        "How to open it",
        "  1. Unpack the archive.",
        f"  2. In a terminal, in the unpacked folder {folder}/, run:",
        f"         python3 -m http.server {PORT}",
        "     (any static web server does: nginx, Apache, GitHub Pages, a storage bucket;",
        "     the site works under any path, e.g. https://example.org/some/folder/).",
        f"  3. Open http://localhost:{PORT}/ in a web browser.",
        "",
        "Opening index.html directly from the disk (a file:// address) does not work: browsers",
        "do not let a page read the data files beside it, so the figures cannot be computed.",
        "",
        "A page keeps its view in its address (circos/index.html?fdr_i=0.1&...), so an address",
        "can be shared; the original site's /circos?fdr_i=0.1&... is circos/?fdr_i=0.1&... here.",
        "",
        "What is inside",
        "  index.html, circos/, pairwise/, effects/  the pages; 404.html the page for a wrong address",
        "  data/            the store's tables (Arrow IPC .arrow, NumPy .npy) and their index",
        "                   data/store.<hash>.json",
        "  static/          style sheet, scripts (plotly.js, the figure engine), icons",
        "  pictures/        each figure's default view as an SVG picture",
        "  downloads/       each figure's default view as CSV (with its provenance lines)",
        "  manifest.json    the compiled store's manifest: its inputs, settings and versions",
        "  CITATION.cff     how to cite the data",
        "  README.txt       this file",
        "",
    ]
    return "\n".join(lines)


def write_archive(
    site: Path, archive: Path, folder: str, extras: dict[str, bytes], skip: tuple[str, ...] = ()
) -> int:
    """Zip the folder `site` as `folder/…` (but its files `skip`) plus `extras` (name → bytes)
    into `archive`; its size. Files of the site with an extra's name are replaced by it."""
    temp = archive.parent / f".{archive.name}.tmp-{os.getpid()}"
    try:
        with zipfile.ZipFile(temp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(site.rglob("*")):
                rel = path.relative_to(site).as_posix()
                if path.is_file() and rel not in extras and rel not in skip:
                    zf.write(path, f"{folder}/{rel}")
            for name, body in extras.items():
                zf.writestr(f"{folder}/{name}", body)
        with zipfile.ZipFile(temp) as zf:
            bad = zf.testzip()
        if bad is not None:
            raise CtsiteError(f"the archive's {bad} did not read back", hint="try again")
        os.replace(temp, archive)
    except OSError as exc:
        raise CtsiteError(f"cannot write {archive}: {exc.strerror or exc}") from None
    finally:
        temp.unlink(missing_ok=True)
    return archive.stat().st_size


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
