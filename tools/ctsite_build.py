"""ctsite's build backend: setuptools', refusing to build a release without the browser bundles.

The pages load a partial plotly.js bundle (`ctsite/web/static/vendor/plotly-partial.min.js`)
and the static site computes its figures with the engine bundle (`ctsite-engine.js` beside it),
both built from the npm registry by `web-assets/` and never committed. A wheel or sdist built
without them would install a site that silently falls back to the plotly package's full bundle
and an `export-site` whose figures cannot change, so `build_wheel` and `build_sdist` stop with
one line saying how to build them first. Editable installs (`pip install -e .`, before any npm
step) are not checked.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F403 (every other hook is setuptools' own)

VENDOR = Path(__file__).resolve().parents[1] / "ctsite/web/static/vendor"
BUNDLES = (VENDOR / "plotly-partial.min.js", VENDOR / "ctsite-engine.js")
BUILD_IT = "npm ci --prefix web-assets && npm run --prefix web-assets build"


def _require_bundle() -> None:
    for bundle in BUNDLES:
        if not bundle.is_file() or bundle.stat().st_size == 0:
            raise SystemExit(
                f"ctsite release build: {bundle.name} is missing from ctsite/web/static/vendor/; "
                f"build it first ({BUILD_IT}), or run scripts/release.sh"
            )


def build_wheel(
    wheel_directory: str,
    config_settings: dict[str, str | list[str]] | None = None,
    metadata_directory: str | None = None,
) -> str:
    _require_bundle()
    return _setuptools.build_wheel(wheel_directory, config_settings, metadata_directory)


def build_sdist(
    sdist_directory: str, config_settings: dict[str, str | list[str]] | None = None
) -> str:
    _require_bundle()
    return _setuptools.build_sdist(sdist_directory, config_settings)
