"""The image's lock files: requirements/web.lock pins exactly the `web` extra of pyproject.toml
(every package with the hashes of its files, nothing of the compile/deploy extras), the
Dockerfile installs only the locks, and neither the extra's floors nor the lock admit a version
with a published advisory. Offline: the real image is checked against the same lock in
test_real_image.py."""

from __future__ import annotations

import shutil
import subprocess
import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.support.components import unavailable
from tests.support.locks import PROJECT, REQUIREMENTS, read_lock, read_requirements

LOCK_COMMAND = "sh requirements/lock.sh"
# Published advisories of the site's packages: (id, first fixed version). The web extra's floor
# of each package it names is at least the newest fix; the lock pins past every fix, also for the
# packages that only come with others (pygments with rich).
ADVISORIES: dict[str, list[tuple[str, str]]] = {
    "flask": [
        ("CVE-2023-30861", "2.3.2"),
        ("CVE-2025-47278", "3.1.1"),
        ("CVE-2026-27205", "3.1.3"),
    ],
    "werkzeug": [
        ("CVE-2023-46136", "3.0.1"),
        ("CVE-2024-34069", "3.0.3"),
        ("CVE-2024-49766", "3.0.6"),
        ("CVE-2024-49767", "3.0.6"),
        ("CVE-2025-66221", "3.1.4"),
        ("CVE-2026-21860", "3.1.5"),
        ("CVE-2026-27199", "3.1.6"),
    ],
    "jinja2": [
        ("CVE-2024-22195", "3.1.3"),
        ("CVE-2024-34064", "3.1.4"),
        ("CVE-2024-56201", "3.1.5"),
        ("CVE-2024-56326", "3.1.5"),
        ("CVE-2025-27516", "3.1.6"),
    ],
    "gunicorn": [("CVE-2024-1135", "22.0.0"), ("CVE-2024-6827", "23.0.0")],
    "orjson": [("CVE-2024-27454", "3.9.15"), ("CVE-2025-67221", "3.11.6")],
    "pyarrow": [("CVE-2023-47248", "14.0.1"), ("CVE-2026-25087", "23.0.1")],
    "pygments": [("CVE-2022-40896", "2.15.0"), ("CVE-2026-4539", "2.20.0")],
}
LOCK_ONLY = {"pygments"}  # not a requirement of the site's own: the lock alone keeps it patched
NOT_WEB = {"anndata", "h5py", "scipy", "boto3", "botocore", "paramiko", "docker", "pyyaml"}


def web_extra() -> dict[str, Requirement]:
    doc = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))
    reqs = [Requirement(r) for r in doc["project"]["optional-dependencies"]["web"]]
    return {canonicalize_name(r.name): r for r in reqs if canonicalize_name(r.name) != "ctsite"}


def floor(req: Requirement) -> Version | None:
    """The lowest version `req` admits, from its lower bounds (None: no lower bound)."""
    bounds = [Version(s.version) for s in req.specifier if s.operator in {">=", ">", "==", "~="}]
    return max(bounds) if bounds else None


def test_floors_exclude_every_advised_version() -> None:
    extra = web_extra()
    for package, advisories in ADVISORIES.items():
        if package in LOCK_ONLY:
            continue
        assert package in extra, f"the web extra names no floor for {package}"
        low = floor(extra[package])
        for advisory, fixed in advisories:
            assert low is not None and low >= Version(fixed), (
                f"{extra[package]} admits {package} < {fixed} ({advisory})"
            )


def test_lock_pins_past_every_advisory() -> None:
    pins = read_lock(REQUIREMENTS / "web.lock")
    for package, advisories in ADVISORIES.items():
        assert package in pins, f"web.lock has no {package}"
        for advisory, fixed in advisories:
            assert Version(pins[package].version) >= Version(fixed), (
                f"web.lock pins {package}=={pins[package].version}, affected by {advisory}"
            )


def test_web_in_is_the_web_extra() -> None:
    """web.in is written from pyproject.toml by lock.sh: a changed extra means a stale lock."""
    written = read_requirements(REQUIREMENTS / "web.in")
    assert {n: str(r) for n, r in written.items()} == {n: str(r) for n, r in web_extra().items()}, (
        f"pyproject.toml's web extra changed: run `{LOCK_COMMAND}`"
    )


def test_lock_satisfies_the_extra_and_holds_nothing_else() -> None:
    pins = read_lock(REQUIREMENTS / "web.lock")
    for name, req in web_extra().items():
        assert name in pins, f"web.lock lacks {name}: run `{LOCK_COMMAND}`"
        assert req.specifier.contains(pins[name].version, prereleases=True), (
            f"web.lock pins {name}=={pins[name].version}, outside {req}: run `{LOCK_COMMAND}`"
        )
    assert not NOT_WEB & set(pins), f"web.lock holds {sorted(NOT_WEB & set(pins))}"
    assert "ctsite" not in pins


@pytest.mark.parametrize("name", ["web.lock", "build.lock"])
def test_every_pin_has_hashes_and_the_lock_names_its_command(name: str) -> None:
    path = REQUIREMENTS / name
    pins = read_lock(path)
    assert pins
    assert [n for n, pin in pins.items() if not pin.hashes] == []
    assert all(h.startswith("sha256:") for pin in pins.values() for h in pin.hashes)
    head = path.read_text(encoding="utf-8")[:600]
    assert LOCK_COMMAND in head
    assert "--index-url" not in path.read_text() and "--find-links" not in path.read_text()


def test_build_lock_pins_the_wheel_tools() -> None:
    assert {"setuptools", "wheel"} <= set(read_lock(REQUIREMENTS / "build.lock"))


def test_dockerfile_installs_only_the_locks() -> None:
    text = (PROJECT / "Dockerfile").read_text(encoding="utf-8")
    installs = [
        line
        for line in text.splitlines()
        if " install " in line and "pip" in line and not line.lstrip().startswith("#")
    ]
    assert installs, "the Dockerfile installs nothing with pip?"
    for line in installs:
        if "apt-get" in line or "--target /opt/ctsite" in line:
            continue  # system packages; ctsite's own wheel (--no-deps)
        assert "--require-hashes --no-deps -r" in line, line
    assert "requirements/web.lock" in text and "requirements/build.lock" in text
    assert "--no-control-socket" in text


def test_readme_documents_the_lock_command() -> None:
    assert LOCK_COMMAND in (PROJECT / "README.md").read_text(encoding="utf-8")


def test_lock_script_is_shellcheck_clean() -> None:
    if shutil.which("shellcheck") is None:
        unavailable("shellcheck not installed (Debian package shellcheck)")
    result = subprocess.run(
        ["shellcheck", "--severity=style", str(REQUIREMENTS / "lock.sh")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout
