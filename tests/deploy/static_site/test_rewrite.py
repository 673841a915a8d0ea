"""Making a page's URLs relative: only URL attributes of real tags change, escaped as before."""

from __future__ import annotations

import pytest

from ctsite.deploy.static_site.rewrite import (
    absolute_urls,
    insert_meta,
    relative,
    rewrite_page_data,
    rewrite_urls,
)

FILES = {
    "/": "index.html",
    "/circos": "circos/index.html",
    "/static/style.css?v=1": "static/style.0123.css",
    "/api/picture/circos.svg?a=1&b=2&size=phone": "pictures/circos.phone.0123.svg",
    "/static/vendor/plotly.js?v=2": "static/vendor/plotly.0123.js",
}


def resolve(url: str) -> str | None:
    return FILES.get(url) if url.startswith("/") else None


@pytest.mark.parametrize(
    ("target", "page", "expected"),
    [
        ("index.html", "index.html", "index.html"),
        ("index.html", "circos/index.html", "../index.html"),
        ("circos/index.html", "circos/index.html", "index.html"),
        ("static/a.css", "circos/index.html", "../static/a.css"),
        ("downloads/x.csv?q=1", "404.html", "downloads/x.csv?q=1"),
    ],
)
def test_relative(target, page, expected):
    assert relative(target, page) == expected


def test_only_url_attributes_of_tags_change():
    page = (
        '<!doctype html>\n<html><head><link rel="stylesheet" href="/static/style.css?v=1">\n'
        "<script>const x = '<a href=\"/circos\">';</script>\n"
        '<!-- <a href="/circos"> -->\n</head><body>\n'
        '  <a class="brand" href="/">Home</a> <a href="https://doi.org/x">paper</a> <a href="#main">skip</a>\n'
        '  <picture><source media="(max-width: 640px)" srcset="/api/picture/circos.svg?a=1&amp;b=2&amp;size=phone" width="1">'
        '<img src="/api/picture/circos.svg?a=1&amp;b=2&amp;size=phone" alt="/circos"></picture>\n'
        '  <form action="/circos" method="get"></form>\n</body></html>\n'
    )
    out = rewrite_urls(page, "circos/index.html", resolve)
    assert out == (
        '<!doctype html>\n<html><head><link rel="stylesheet" href="../static/style.0123.css">\n'
        "<script>const x = '<a href=\"/circos\">';</script>\n"
        '<!-- <a href="/circos"> -->\n</head><body>\n'
        '  <a class="brand" href="../index.html">Home</a> <a href="https://doi.org/x">paper</a> <a href="#main">skip</a>\n'
        '  <picture><source media="(max-width: 640px)" srcset="../pictures/circos.phone.0123.svg" width="1">'
        '<img src="../pictures/circos.phone.0123.svg" alt="/circos"></picture>\n'
        '  <form action="index.html" method="get"></form>\n</body></html>\n'
    )
    assert absolute_urls(page) == [
        "/static/style.css?v=1", "/", "/api/picture/circos.svg?a=1&b=2&size=phone",
        "/api/picture/circos.svg?a=1&b=2&size=phone", "/circos",
    ]  # fmt: skip
    assert absolute_urls(out) == []


def test_page_data_plotly_url():
    page = (
        '<script type="application/json" id="page-data">{"figure": "circos", '
        '"plotly": "/static/vendor/plotly.js?v=2", "stem": "x\\u003cy"}</script>'
    )
    out = rewrite_page_data(page, "circos/index.html", resolve)
    assert out == page.replace("/static/vendor/plotly.js?v=2", "../static/vendor/plotly.0123.js")
    assert absolute_urls(page) == ["/static/vendor/plotly.js?v=2"]
    assert absolute_urls(out) == []


def test_insert_meta_escapes_and_needs_a_head():
    out = insert_meta("<html><head><title>t</title></head></html>", {"ctsite-data": 'a"b.json'})
    assert out == (
        '<html><head><title>t</title><meta name="ctsite-data" content="a&quot;b.json">\n'
        "</head></html>"
    )
    with pytest.raises(ValueError, match="no </head>"):
        insert_meta("<p>no head</p>", {"a": "b"})


def test_a_tag_spanning_lines_is_found_where_it_is():
    page = '<p>\n\n<a\n  class="x"\n  href="/circos">c</a> <img src="/">\n'
    assert rewrite_urls(page, "index.html", resolve) == (
        '<p>\n\n<a\n  class="x"\n  href="circos/index.html">c</a> <img src="index.html">\n'
    )
