"""CLI commands of the website: `serve` and `figures`."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the web commands to the main app (none yet)."""
