"""The static site's data folder for a compiled store, as the browser engine reads it.

The engine's tests read exactly what `ctsite export-site` writes (ctsite/deploy/static_site/
data.py); this returns the index's path for the tests' runners.
"""

from __future__ import annotations

from pathlib import Path

from ctsite.deploy.static_site.data import write_data
from ctsite.store import Store


def write_engine_data(store: Store, out: Path) -> Path:
    """Write `out/data/` for `store` as the exporter does; returns the index's path."""
    return out / write_data(store, out).index
