"""The website asked in-process, for the static-site export (`ctsite export-site`).

`AppSnapshot` builds the real app (`create_app`) over one store version and answers GETs through
Flask's test client, so the exported pages are exactly what `ctsite serve` sends for the same
store (the workflow then makes their URLs relative). A static site has no server to check an
access code, so the snapshot is taken with the gate off: the export says so (`gated`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from werkzeug.http import parse_options_header

from ctsite.config import Settings
from ctsite.web.app import create_app
from ctsite.web.assets import ENGINE_BUNDLE, PARTIAL_BUNDLE
from ctsite.web.citation import citation_cff, current_identity


@dataclasses.dataclass(frozen=True)
class Answer:
    """One answer of the app (what `ctsite.deploy.static_site.source.Fetched` describes)."""

    status: int
    mimetype: str
    body: bytes
    filename: str = ""


class AppSnapshot:
    """A `SiteSource` (`ctsite.deploy.static_site.source`) over the Flask app of the store (version) folder `store_path`."""

    def __init__(
        self,
        settings: Settings,
        store_path: Path,
        partial_bundle: Path | None = PARTIAL_BUNDLE,
        engine: Path = ENGINE_BUNDLE,
    ) -> None:
        self.gated = bool(settings.site_access_code_hash)
        open_settings = dataclasses.replace(settings, site_access_code_hash="")
        self.app = create_app(open_settings, store_path=store_path, partial_bundle=partial_bundle)
        self.client = self.app.test_client()
        self.engine = engine

    def get(self, url: str) -> Answer:
        response = self.client.get(url, headers={"Accept": "text/html,*/*"})
        _, options = parse_options_header(response.headers.get("Content-Disposition", ""))
        return Answer(
            status=response.status_code,
            mimetype=response.mimetype or "",
            body=response.get_data(),
            filename=options.get("filename", ""),
        )

    def engine_bundle(self) -> Path | None:
        return self.engine if self.engine.is_file() else None

    def citation(self) -> str:
        with self.app.app_context():
            return citation_cff(current_identity())
