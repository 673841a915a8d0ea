"""Read the pip-compile lock files under requirements/ (pins and their hashes).

A lock is pip's requirements format: one `name==version \\` line per package, followed by its
`--hash=sha256:…` lines and pip-compile's `# via` comments. Names are compared in their canonical
form (PEP 503: `Flask-Limiter` and `flask_limiter` are the same package).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

PROJECT = Path(__file__).resolve().parents[2]
REQUIREMENTS = PROJECT / "requirements"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


@dataclass
class Pin:
    version: str
    hashes: list[str] = field(default_factory=list)


def read_lock(path: Path) -> dict[str, Pin]:
    """canonical name → its pinned version and hashes; a package pinned twice is an error."""
    pins: dict[str, Pin] = {}
    current: Pin | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if match:
            name = canonicalize_name(match.group(1))
            assert name not in pins, f"{path.name} pins {name} twice"
            current = pins[name] = Pin(match.group(2))
        elif line.strip().startswith("--hash=") and current is not None:
            current.hashes.append(line.strip().split("=", 1)[1].rstrip(" \\"))
        elif line and not line.startswith(" "):
            current = None  # a comment or option line ends the package's block
    return pins


def read_requirements(path: Path) -> dict[str, Requirement]:
    """canonical name → requirement, for a plain requirements file (comments skipped)."""
    found: dict[str, Requirement] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            req = Requirement(line)
            found[canonicalize_name(req.name)] = req
    return found
