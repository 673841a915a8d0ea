"""The published site as a reader gets it: `publish_site` of the demo's export into moto's S3,
every object read back from the bucket and served by a tiny HTTP server that replays the stored
Content-Type, Content-Encoding (the gzipped data files) and Cache-Control, as CloudFront in front
of the bucket does — then Chromium opens every page, and every control of each figure, changed
in turn, draws the server's figure (the checks of tests/deploy/static_site/test_served_site.py)."""

from __future__ import annotations

from typing import Any

import pytest

from ctsite.deploy.static_site.publish_site import publish_site
from ctsite.figures import FIGURES
from tests.deploy.static_site.test_served_site import (
    CONTROL_CHANGES,
    PAGES,
    Visit,
    assert_drawn_as_server,
    change,
    site_name,
    wait_drawn,
)
from tests.support.static_bucket import bucket_objects, serve_objects
from tests.web.test_browser import browser  # Chromium as the site's tests run it

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(600)]
__all__ = ["browser"]  # (a fixture of this module's tests)


def test_the_published_site_works_in_chromium(
    moto_clients: Any, hosting, demo_export, browser, server_client
):
    bucket, distribution = hosting
    publish_site(bucket, distribution, moto_clients, site=demo_export)
    objects = bucket_objects(moto_clients("s3"), bucket)
    assert any(o.content_encoding == "gzip" for o in objects.values())  # replayed below
    with serve_objects(objects) as base:
        visit = Visit(browser, base)
        try:
            page = visit.page
            name = site_name(server_client)
            encodings: dict[str, str] = {}
            page.on(
                "response",
                lambda r: encodings.__setitem__(r.url, r.headers.get("content-encoding", "")),
            )
            for rel, figure in PAGES.items():
                response = page.goto(base + rel)
                assert response is not None and response.status == 200, rel
                assert response.headers["cache-control"] == "public, max-age=60, must-revalidate"
                title = name if figure is None else f"{FIGURES[figure].title} · {name}"
                assert page.title() == title
            response = page.goto(base + "no-such-page")
            assert response is not None and response.status == 404
            assert page.title() == f"Not Found · {name}"
            visit.failed.clear()  # (that 404 was asked for, and its console line)
            visit.errors.clear()
            for figure in FIGURES:
                page.goto(base + f"{figure}/index.html")
                page.hover(".figure-wrap")  # the engine computes the default view
                drawn = wait_drawn(page)
                assert_drawn_as_server(page, server_client, figure)
                for control, value in CONTROL_CHANGES[figure]:  # every control, in turn
                    change(page, control, value)
                    page.click("#submit")
                    drawn = wait_drawn(page, drawn)
                    query = assert_drawn_as_server(page, server_client, figure)
                    assert f"{control}=" in query
            # the browser read the gzipped data files through their stored Content-Encoding
            gzipped = [u for u, e in encodings.items() if e == "gzip"]
            assert any(u.endswith(".arrow") for u in gzipped), encodings
            visit.check_clean(base)
        finally:
            visit.context.close()
