"""Words a reader understands (issue 25, point 3): errors that name the control and its range
with HTTP 400, downloads named after the view and carrying their provenance, a complete CSV
link without JavaScript, and `ctsite export circos` giving the web CSV's columns."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlparse

import pandas as pd
import pytest

from ctsite import __version__
from ctsite.figures import FIGURES


def csv_link(html: str) -> str:
    """The href of the page's "Download CSV" link, as the browser reads it."""

    class Links(HTMLParser):
        href = ""

        def handle_starttag(self, tag, attrs):
            if dict(attrs).get("id") == "download-csv":
                Links.href = dict(attrs)["href"]

    Links().feed(html)
    return Links.href


def test_page_with_a_wrong_value_answers_400_in_the_controls_words(client):
    """Before: 200, and "fdr_i must be one of 0.01, 0.02, …, 0.25" (the query key)."""
    r = client.get("/pairwise", query_string={"fdr_i": "0.333"})
    assert r.status_code == 400
    text = r.get_data(as_text=True)
    assert "Interaction-effect FDR cutoff" in text and "0.01 to 0.25" in text
    r = client.get("/api/figure/pairwise", query_string={"min_expression": "2"})
    assert r.status_code == 400
    assert r.json["error"].startswith("Minimum expression fraction (min_expression) must be")
    assert "from 0 to 1" in r.json["error"]
    assert client.get("/pairwise").status_code == 200


@pytest.mark.parametrize("name", list(FIGURES))
def test_csv_link_names_every_control_before_any_script(client, name):
    href = csv_link(client.get(f"/{name}").get_data(as_text=True))
    keys = {k for k, _ in parse_qsl(urlparse(href).query, keep_blank_values=True)}
    wanted = {c.name for c in FIGURES[name].controls if not c.optional}
    assert wanted <= keys, wanted - keys


def provenance_lines(text: str) -> dict[str, str]:
    fields = {}
    for line in text.splitlines():
        if not line.startswith("# "):
            break
        key, _, value = line[2:].partition(": ")
        fields[key] = value
    return fields


def test_csv_is_named_after_the_view_and_carries_its_provenance(client, store):
    """Before: `circos-c3.csv`, and nothing but the rows."""
    r = client.get("/api/data/pairwise.csv", query_string={"fdr_i": "0.1", "min_numsigi1": "5"})
    assert r.status_code == 200
    disposition = r.headers["Content-Disposition"]
    label = re.sub(r"[^A-Za-z0-9.-]+", "_", store.default_condition().label).strip("_")
    assert f'filename="pairwise_{label}_fdr_i-0.1_fdr_l-0.05_min_numsigi1-5.csv"' in disposition
    text = r.get_data(as_text=True)
    fields = provenance_lines(text)
    assert fields["ctsite_version"] == __version__
    assert fields["store_version"] == store.version and fields["site"]
    assert "fdr_i=0.1" in fields["parameters"] and "min_numsigi1=5" in fields["parameters"]
    url = urlparse(fields["url"])
    assert url.path == "/pairwise"
    # the URL reproduces the file: its page opens, and its query gives the same rows
    assert client.get(f"{url.path}?{url.query}").status_code == 200
    again = client.get(f"/api/data/pairwise.csv?{url.query}").get_data(as_text=True)
    assert again == text
    rows = pd.read_csv(io.StringIO(text), comment="#")
    assert "ligand" in rows.columns and len(rows) > 0


def test_export_circos_has_the_web_csv_columns_and_rows(client, store):
    """Before: export had 10 store columns, the web CSV the figure's 21."""
    from ctsite.compile.export import export_table

    condition = store.default_condition().name
    exported = export_table(store, "circos", condition, 0.1, [], None)
    r = client.get("/api/data/circos.csv", query_string={"condition": condition, "fdr_i": "0.1"})
    web = pd.read_csv(io.StringIO(r.get_data(as_text=True)), comment="#")
    assert list(exported.columns) == list(web.columns)
    assert len(exported) == len(web) > 0  # (two empty tables would compare equal)
    back = pd.read_csv(io.StringIO(exported.to_csv(index=False)))
    pd.testing.assert_frame_equal(back, web)
