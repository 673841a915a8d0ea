"""CLI commands of the compile area: `compile`, `export`, `demo`."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the compile commands to the main app (none yet)."""
