"""CLI command `ctsite export-site DIR [--archive FILE.zip]` (`ctsite.deploy.static_site`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ctsite.cli.console import warn
from ctsite.cli.context import begin, reporter_for
from ctsite.cli.render import JsonFlag, emit, esc, say


def size_text(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n / 1e3:.0f} kB"


def export_site_cmd(
    ctx: typer.Context,
    directory: Annotated[
        Path, typer.Argument(help="Folder to write (new, empty, or a previous export).")
    ],
    archive: Annotated[
        Path | None,
        typer.Option(
            "--archive",
            help="Also write the site as FILE.zip, with a README, CITATION.cff and the "
            "store's manifest (for a repository such as Zenodo).",
        ),
    ] = None,
    data: Annotated[
        Path | None, typer.Option("--data", help="Compiled store (default: compiled_dir).")
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """Write the whole website as static files any web server can serve, under any path."""
    from functools import partial

    from ctsite.deploy.static_site.export_site import export_site
    from ctsite.web.snapshot import AppSnapshot

    s, as_json = begin(ctx, json_out)
    if data is None and s.data:
        from ctsite.cli.web import say_if_stale

        say_if_stale(s)  # the site shows what the store carries, as `ctsite serve` says
    if s.site_access_code_hash:
        warn(
            "the access code (site_access_code_hash) does not protect a static site: "
            "whoever can reach its files sees everything"
        )
    result = export_site(
        directory,
        data or s.compiled_path,
        partial(AppSnapshot, s),
        archive=archive,
        reporter=reporter_for(ctx, show_output=not as_json),
    )
    if not result.engine:
        warn(
            "the figure engine (ctsite/web/static/vendor/ctsite-engine.js) is not built: the "
            "pages show each figure's default view, without interactive controls"
        )
    if as_json:
        emit(result)
        return
    say(
        f"Exported store version {esc(result.version or '?')} to [bold]{esc(str(directory))}[/]: "
        f"{len(result.pages)} pages, {result.files} files, {size_text(result.bytes)} "
        f"(data {size_text(result.data_bytes)})"
    )
    if result.archive is not None:
        say(f"Wrote {esc(str(result.archive))} ({size_text(result.archive_bytes)})")
    say(
        f"Try it: python3 -m http.server 8000 -d {esc(str(directory))}, then http://localhost:8000/"
    )


def register(app: typer.Typer) -> None:
    """Add `export-site` to the main app."""
    app.command("export-site")(export_site_cmd)
