"""The rule for a missing test component (npm, dockerd, the registry, sshd, Chromium, nginx…).

On a developer's machine a test whose component is missing skips, saying what to install. Under
CI (`CI=true`, as `.ci/run` is run) it fails instead: CI installs every component, so a missing one
is a broken set-up that would otherwise silently turn real tests into skips.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import NoReturn

import pytest


def under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def unavailable(reason: str) -> NoReturn:
    """Skip (developer machine) or fail (CI) a test whose component is missing."""
    if under_ci():
        pytest.fail(f"test component missing under CI: {reason}", pytrace=False)
    pytest.skip(reason)


def require_module(name: str, install: str) -> ModuleType:
    """`import name`, or `unavailable` with how to install it."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        unavailable(f"{name} cannot be imported ({exc}): {install}")
