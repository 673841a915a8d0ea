"""The Docker build context: .dockerignore keeps data, tests, caches and git out (checked with
the Docker SDK's own exclusion logic, i.e. exactly the files `ctsite build-push` sends)."""

from __future__ import annotations

from pathlib import Path

from docker.utils.build import exclude_paths

ROOT = Path(__file__).resolve().parents[2]


def context_files() -> set[str]:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return set(exclude_paths(str(ROOT), patterns, dockerfile="Dockerfile"))


def test_context_holds_only_what_the_image_needs():
    files = context_files()
    assert "pyproject.toml" in files
    assert {"requirements/web.lock", "requirements/build.lock"} <= files  # what the image installs
    assert "requirements/lock.sh" not in files
    assert "Dockerfile" in files  # the SDK always sends the Dockerfile and .dockerignore
    assert "ctsite/__init__.py" in files
    assert "ctsite/web/app.py" in files
    tops = {f.split("/", 1)[0] for f in files}
    assert tops <= {
        *("pyproject.toml", "README.md", "requirements", "ctsite", "web-assets"),
        *("Dockerfile", ".dockerignore"),
    }, tops
    assert not [f for f in files if "node_modules" in f]
    assert not [f for f in files if "__pycache__" in f or f.endswith((".pyc", ".pyo"))]
    assert not [f for f in files if ".egg-info" in f]


def test_package_data_is_in_the_context():
    files = context_files()
    on_disk = {
        str(p.relative_to(ROOT))
        for p in (ROOT / "ctsite").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix not in {".pyc", ".pyo"}
    }
    # The deployment files the package ships are links to the top-level files here: the image
    # serves the site and never builds or deploys, so they stay out (links would dangle there).
    shipped = {n for n in on_disk if n.startswith("ctsite/deploy/files/")}
    assert shipped and not shipped & files, sorted(shipped & files)[:10]
    assert on_disk - shipped <= files, sorted(on_disk - shipped - files)[:10]
