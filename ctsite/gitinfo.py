"""The project checkout's commit, for image tags and application version labels."""

from __future__ import annotations

import subprocess
from pathlib import Path


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()


def short_commit(
    root: Path, length: int | None = None, *, include_untracked: bool = True
) -> str | None:
    """The short commit of the checkout at `root`, plus `-dirty` when it has changes.

    None outside a git checkout (or without git). `length` is git's `--short` length (its default
    when None); untracked files count as changes unless `include_untracked` is False.
    """
    short = f"--short={length}" if length else "--short"
    status = ["status", "--porcelain"] + ([] if include_untracked else ["--untracked-files=no"])
    try:
        sha = _git(root, "rev-parse", short, "HEAD")
        dirty = _git(root, *status)
    except (OSError, subprocess.SubprocessError):
        return None
    if not sha:
        return None
    return f"{sha}-dirty" if dirty else sha
