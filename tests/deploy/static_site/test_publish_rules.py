"""The rules `publish-site` follows, alone: each file's kind and headers, the stored gzip
stream, the paths an invalidation names, and the publish record's generations."""

from __future__ import annotations

import gzip

import pytest

from ctsite.deploy.static_site import objects
from ctsite.deploy.static_site.record import Record, parse
from ctsite.errors import CtsiteError

SHA = "0123456789abcdef" * 4


@pytest.mark.parametrize(
    ("key", "kind", "cache"),
    [
        (f"data/{SHA}.arrow", "hashed", objects.IMMUTABLE),
        ("data/store.0123456789abcdef.json", "index", objects.IMMUTABLE),
        ("static/style.0123456789abcdef.css", "hashed", objects.IMMUTABLE),
        ("static/vendor/plotly-partial.min.0123456789abcdef.js", "hashed", objects.IMMUTABLE),
        ("pictures/circos.default.0123456789abcdef.svg", "hashed", objects.IMMUTABLE),
        ("downloads/circos_highCIN_vs_lowCIN.csv", "mutable", objects.SHORT),
        ("CITATION.cff", "mutable", objects.SHORT),
        ("static/style.css", "mutable", objects.SHORT),  # no hash in the name: not immutable
        ("index.html", "page", objects.SHORT),
        ("circos/index.html", "page", objects.SHORT),
        ("404.html", "page", objects.SHORT),
    ],
)
def test_kinds_and_cache(key: str, kind: str, cache: str) -> None:
    assert objects.kind_of(key) == kind
    assert objects.cache_control(key) == cache


def test_content_types() -> None:
    assert objects.content_type("index.html") == "text/html; charset=utf-8"
    assert objects.content_type(f"data/{SHA}.arrow") == "application/vnd.apache.arrow.file"
    assert objects.content_type(f"data/{SHA}.npy") == "application/octet-stream"
    assert objects.content_type("x.0123456789abcdef.js") == "application/javascript"
    assert objects.content_type("x.svg") == "image/svg+xml"
    assert objects.content_type("downloads/a.csv") == "text/csv; charset=utf-8"


def test_only_what_the_cdn_does_not_compress_is_stored_gzipped() -> None:
    text = b"gene,cell type\n" * 1000
    assert objects.compress("static/app.0123456789abcdef.js", text) == (text, "")
    body, encoding = objects.compress(f"data/{SHA}.arrow", text)
    assert encoding == "gzip" and gzip.decompress(body) == text
    assert objects.compress(f"data/{SHA}.arrow", text) == (body, encoding)  # the same bytes
    assert objects.compress(f"data/{SHA}.npy", b"\x93NUMPY") == (b"\x93NUMPY", "")  # not smaller
    big = b"x" * (objects.CDN_COMPRESSES_UP_TO + 1)
    assert objects.compress("data/store.0123456789abcdef.json", big)[1] == "gzip"


def test_page_paths() -> None:
    assert objects.page_paths("index.html") == ["/", "/index.html"]
    assert objects.page_paths("circos/index.html") == ["/circos*"]
    assert objects.page_paths("404.html") == ["/404.html"]


def test_generations() -> None:
    a, b, c = frozenset({"p", "a1", "s"}), frozenset({"p", "b1", "s"}), frozenset({"p", "c1", "s"})
    one = Record().begin(a).switched(a)
    assert one == Record(live=a)
    two = one.begin(b).switched(b)
    assert two.live == b and two.grace == {"a1"} and not two.retired
    three = two.begin(c).switched(c)
    assert three.grace == {"b1"} and three.retired == {"a1"}
    assert three.cleaned(frozenset()).retired == frozenset()
    # a publish stopped after its first upload: its keys are pending, then get their grace
    stopped = three.cleaned(frozenset()).begin(a)
    assert stopped.pending == a
    four = stopped.begin(b).switched(b)
    assert four.live == b and four.grace == {"c1", "a1"} and not four.retired


def test_a_record_is_read_back_or_refused() -> None:
    record = Record(live=frozenset({"x"}), grace=frozenset({"y"}))
    assert parse(record.to_bytes(), "b") == record
    assert parse(None, "b") == Record()
    with pytest.raises(CtsiteError, match="not a publish record"):
        parse(b'{"record_version": 9}', "b")
    with pytest.raises(CtsiteError, match="not a publish record"):
        parse(b"[1, 2]", "b")
