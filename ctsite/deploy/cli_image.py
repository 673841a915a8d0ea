"""CLI commands of this deploy area, registered on the main Typer app by `ctsite.cli`."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app (none yet)."""
