"""The workflow of `ctsite export-site DIR [--archive FILE.zip]`: the whole site as static files.

One store version is opened and pinned (a compile that switches the pointer meanwhile changes
nothing of this export); its data go to `data/`, the website's own pages over that version to
the rest of the folder (`pages`), all in a temporary folder that replaces DIR only when complete
(`destination`). The archive, when asked for, zips the folder with a README, CITATION.cff and
the store's manifest (`archive`).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ctsite.deploy.reporter import NULL, Reporter
from ctsite.deploy.static_site import archive as zipped
from ctsite.deploy.static_site.data import write_data
from ctsite.deploy.static_site.destination import (
    MARKER,
    check_destination,
    publish,
    temporary_folder,
    write_marker,
)
from ctsite.deploy.static_site.pages import SiteWriter
from ctsite.deploy.static_site.source import SiteSource
from ctsite.errors import CtsiteError
from ctsite.store import Store


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote."""

    directory: Path
    version: str | None
    pages: tuple[str, ...]
    files: int
    bytes: int
    data_bytes: int
    engine: bool  # the browser engine is in the site (else: default views only)
    replaced: bool  # a previous export was replaced
    archive: Path | None = None
    archive_bytes: int = 0


def export_site(
    directory: Path,
    store_path: Path,
    source_for: Callable[[Path], SiteSource],
    archive: Path | None = None,
    reporter: Reporter = NULL,
) -> ExportResult:
    """Export the current version of the store at `store_path` into `directory`.

    `source_for(version folder)` gives the website over that version (the CLI passes
    `ctsite.web.snapshot.AppSnapshot`). Bad input raises one `CtsiteError` before anything is
    written; a failure later leaves `directory` as it was.
    """
    directory = Path(os.path.abspath(directory))  # (`.` has a name and a parent to write in)
    if archive is not None:
        zipped.check_archive_path(Path(archive), directory)
    check_destination(directory)
    store = Store.open(store_path)
    reporter.info(f"Exporting store version {store.version or store.path}")
    source = source_for(store.path)
    temp = temporary_folder(directory)
    try:
        data = write_data(store, temp)
        reporter.info(f"Wrote the figures' data: {data.files} files")
        writer = SiteWriter(source, temp, data.index)
        writer.write_all()
        (temp / ".nojekyll").write_bytes(b"")  # GitHub Pages: serve the files as they are
        write_marker(temp, store.version)
        files = sum(1 for p in temp.rglob("*") if p.is_file())
        size = sum(p.stat().st_size for p in temp.rglob("*") if p.is_file())
        replaced = publish(temp, directory)
    except OSError as exc:  # a full disk, a folder that cannot be renamed (a mount point), ...
        raise CtsiteError(
            f"cannot write the site to {directory}: {exc.strerror or exc}",
            hint="nothing was changed there; free space or choose another folder",
        ) from None
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    result = ExportResult(
        directory=directory,
        version=store.version,
        pages=(*writer.pages.values(), "404.html"),
        files=files,
        bytes=size,
        data_bytes=data.bytes,
        engine=writer.engine is not None,
        replaced=replaced,
    )
    if archive is None:
        return result
    archive = Path(archive)
    site_name = archive.stem
    title = store.identity.title if store.identity is not None else site_name
    extras = {
        "README.txt": zipped.readme(title, store.version, site_name, result.engine).encode(),
        "manifest.json": zipped.manifest_bytes(store.manifest),
    }
    if not (directory / "CITATION.cff").is_file():
        extras["CITATION.cff"] = source.citation().encode("utf-8")
    archive_bytes = zipped.write_archive(directory, archive, site_name, extras, skip=(MARKER,))
    reporter.info(f"Wrote {archive}")
    return dataclasses.replace(result, archive=archive, archive_bytes=archive_bytes)
