"""THE price of an upload (`ctsite.deploy.pricing`): one formula, used alike by the upload's
plan and result and by the release plan (expected values worked out by hand)."""

from __future__ import annotations

import pytest

from ctsite.config import load_settings
from ctsite.deploy import release_plan, upload
from ctsite.deploy.pricing import ASSUMED_STARTUP_S, Rates, assumed_seconds, link_seconds
from tests.cli.test_upload import make_project


def test_the_formula():
    rates = Rates(hourly=0.30, per_gb=0.04)
    assert rates.cost(1800, 2_000_000_000) == pytest.approx(0.15 + 0.08)
    assert rates.cost(0, 0) == 0.0


def test_an_upload_is_priced_before_it_runs_with_an_assumed_server_time():
    assert link_seconds(40_000_000) == pytest.approx(2.0)  # 20 MB/s
    assert assumed_seconds(40_000_000) == pytest.approx(ASSUMED_STARTUP_S + 2.0)
    rates = Rates(hourly=3.6, per_gb=1.0)  # $0.001 per second, $1 per GB
    # 30 MB sent + 10 MB read back: 302 s and 0.04 GB
    assert rates.upload(30_000_000, 10_000_000) == pytest.approx(0.302 + 0.04)


def test_rates_come_from_the_settings(tmp_path):
    s = load_settings(root=tmp_path, overrides={"transfer_hourly_cost": 1.5, "transfer_gb_cost": 0})
    assert Rates.of(s) == Rates(1.5, 0.0)


def test_the_dry_run_and_the_release_plan_price_an_upload_alike(tmp_path):
    files = {"compiled/a.bin": b"a" * 3000, "compiled/b.bin": b"b" * 1000}
    s = load_settings(
        root=make_project(tmp_path, files),
        overrides={"transfer_hourly_cost": 3.6, "transfer_gb_cost": 1.0},
    )
    dry = upload.plan_offline_upload(s)
    expected = (ASSUMED_STARTUP_S + 4000 / 20e6) * 0.001 + 4000 / 1e9
    assert dry.estimated_cost == pytest.approx(expected)
    observed = release_plan.Observed(upload_recorded=False, data_bytes=4000)
    decisions = {d.step: d for d in release_plan.plan(observed, rates=Rates.of(s))}
    assert decisions["upload-data"].cost == pytest.approx(expected)


def test_alarms_against_the_free_tier():
    """CloudWatch's first 10 alarm metrics are free, each one more $0.10 a month."""
    from ctsite.deploy.pricing import AlarmTier

    within = AlarmTier(stack=4, others=6)
    assert (within.total, within.within_free_tier, within.monthly_usd) == (10, True, 0.0)
    over = AlarmTier(stack=4, others=9)
    assert (over.total, over.within_free_tier, over.monthly_usd) == (13, False, 0.3)
