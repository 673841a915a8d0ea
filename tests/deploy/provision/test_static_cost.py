"""The static site's monthly cost against a hand calculation, with and without CloudFront's
always-free tier, beside the Elastic Beanstalk site's; and the traffic of a real export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ctsite.config import load_settings
from ctsite.deploy.provision import static
from ctsite.deploy.provision.stack import eb_estimate
from ctsite.deploy.provision.static_cost import Traffic, static_cost
from ctsite.errors import CtsiteError

GIB = 1024**3


def _settings(tmp_path: Path, **overrides: object):
    return load_settings(root=tmp_path, environ={}, overrides=overrides)


def test_ten_thousand_views_cost_cents_and_list_price_beside(tmp_path: Path) -> None:
    """The defaults: 10,000 views a month, 10 requests and 2 MB each, 0.02 GB in the bucket."""
    s = _settings(tmp_path)
    cost = static_cost(s, Traffic.estimate(s), eb_estimate(s))
    requests = 10_000 * 10
    storage = 0.02 * 0.023  # GB-month × $/GB-month
    gets = requests / 1000 * 0.0004
    https = requests / 10_000 * 0.01
    out = 10_000 * 2_000_000 / GIB * 0.085  # 18.63 GB
    calls = 10_000 / 1e6 * 0.10
    assert [line.list_usd for line in cost.lines] == pytest.approx(
        [storage, gets, https, out, calls], abs=1e-4
    )
    # CloudFront's always-free tier covers its requests, transfer and function calls; S3's
    # 12-month free tier is not assumed, so storage and GETs are paid
    assert [line.monthly_usd for line in cost.lines] == pytest.approx(
        [storage, gets, 0, 0, 0], abs=1e-4
    )
    assert cost.monthly_usd == round(storage + gets, 2) == 0.04
    assert cost.monthly_usd < 1  # the target
    assert cost.list_usd == round(storage + gets + https + out + calls, 2) == 1.72
    # one t3.small ($0.0208/h) + its public IPv4 ($0.005/h) for 730 h + 2 GB of EFS
    assert cost.eb_monthly_usd == round(15.18 + 3.65 + 0.6, 2) == 19.43
    doc = cost.to_json()
    assert (doc["monthly_usd"], doc["list_usd"], doc["eb_monthly_usd"]) == (0.04, 1.72, 19.43)
    assert "S3's 12-month free tier not assumed" in doc["free_tier"]
    assert doc["traffic"]["source"] == "estimate"


def test_beyond_the_free_tier_only_the_excess_is_paid(tmp_path: Path) -> None:
    s = _settings(tmp_path, price_cloudfront_gb=0.1)  # the prices are settings
    traffic = Traffic(3_000_000, 5.0, 1_000_000, 100 * 1024**2, "given")
    cost = static_cost(s, traffic)
    requests = 15_000_000
    out_gb = 3_000_000 * 1_000_000 / GIB  # 2,793.97 GB
    free = {line.item.split(",")[0]: line.monthly_usd for line in cost.lines}
    assert free["CloudFront HTTPS requests"] == pytest.approx((requests - 10e6) * 1e-6, abs=1e-4)
    assert free["CloudFront data transfer out"] == pytest.approx((out_gb - 1024) * 0.1, abs=1e-4)
    assert free["CloudFront Function calls"] == pytest.approx(1_000_000 * 1e-7, abs=1e-4)
    assert free["S3 storage"] == pytest.approx(100 / 1024 * 0.023, abs=1e-4)
    assert free["S3 GET requests from CloudFront"] == pytest.approx(15_000 * 0.0004, abs=1e-4)
    assert cost.eb_monthly_usd is None


def test_no_views_cost_only_the_storage(tmp_path: Path) -> None:
    s = _settings(tmp_path, static_monthly_views=0)
    cost = static_cost(s, Traffic.estimate(s))
    assert cost.monthly_usd == cost.list_usd == round(0.02 * 0.023, 2)


def test_the_traffic_of_an_export(tmp_path: Path, export_folder: Path) -> None:
    """A first view of the largest figure page: the page, every content-hashed script and data
    file (counted compressed), one request each; the bucket holds every file."""
    import gzip

    s = _settings(tmp_path, static_monthly_views=500)
    traffic = static.export_traffic(s, export_folder)
    files = [p for p in export_folder.rglob("*") if p.is_file()]
    assert traffic.site_bytes == sum(p.stat().st_size for p in files)
    hashed = [p for p in files if p.relative_to(export_folder).parts[0] in {"static", "data"}]
    assert traffic.requests_per_view == len(hashed) + 1
    raw = sum(p.stat().st_size for p in hashed)
    assert traffic.bytes_per_view < raw  # compressed
    page = max(export_folder.glob("*/index.html"), key=lambda p: p.stat().st_size)
    floor = sum(len(gzip.compress(p.read_bytes(), mtime=0)) for p in [page, *hashed]) * 0.9
    assert traffic.bytes_per_view >= min(floor, raw)
    assert (traffic.views, traffic.source) == (500, str(export_folder))
    cost = static_cost(s, traffic)
    assert cost.monthly_usd < 1


def test_a_folder_that_is_no_export_is_one_error(tmp_path: Path) -> None:
    s = _settings(tmp_path)
    with pytest.raises(CtsiteError, match="not a folder `ctsite export-site` wrote"):
        static.export_traffic(s, tmp_path)
    (tmp_path / ".ctsite-export.json").write_text(json.dumps({"kind": "something else"}))
    with pytest.raises(CtsiteError, match="not a folder"):
        static.export_traffic(s, tmp_path)
