"""CLI command `ctsite figures`: precompute the default views (`ctsite.figures.precomputed`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ctsite.cli.console import console
from ctsite.cli.context import settings


def figures_cmd(
    ctx: typer.Context,
    data: Annotated[
        Path | None, typer.Option("--data", help="Compiled store (default: compiled_dir).")
    ] = None,
) -> None:
    """Precompute the default view of every figure (Plotly JSON) into the store."""
    from ctsite.figures.precomputed import precompute_figures

    result = precompute_figures(data or settings(ctx).compiled_path)
    for f in result.figures:
        console.print(
            f"  {f.figure:<9} {f.condition:<45} {f.bytes / 1024:8.1f} KiB  "
            f"{f.seconds * 1000:7.0f} ms",
            markup=False,
        )
    console.print(f"Wrote {len(result.figures)} figure(s) to {result.directory}", markup=False)


def register(app: typer.Typer) -> None:
    """Add `figures` to the main app."""
    app.command("figures")(figures_cmd)
