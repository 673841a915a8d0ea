"""The one set of output formatters (money, bytes, durations, times)."""

from __future__ import annotations

import datetime as dt

import pytest

from ctsite.formatting import clock, duration, iso, megabytes, money, utc_time


@pytest.mark.parametrize(
    ("dollars", "shown"),
    [(0, "$0.00"), (0.0, "$0.00"), (0.004, "<$0.01"), (0.01, "$0.01"), (0.234, "$0.23"),
     (1234.5, "$1,234.50")],
)  # fmt: skip
def test_money_one_rule(dollars: float, shown: str) -> None:
    assert money(dollars) == shown


def test_bytes_durations_times() -> None:
    assert megabytes(0) == "0.0 MB" and megabytes(1_234_567_890) == "1,234.6 MB"
    assert duration(12.34) == "12.3 s" and duration(600) == "10.0 min"
    when = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert utc_time(when) == "2026-01-02 01:04 UTC" and utc_time(None) == ""
    assert clock(when) == "01:04:05" and clock(None) == "--:--:--"
    assert iso(when) == when.isoformat() and iso(3) == 3


def test_release_and_upload_agree_on_zero_dollars() -> None:
    """The copies used to disagree: $0 was "<$0.01" in upload-data and "$0.00" in release."""
    import ctsite.cli.release as release_cli
    import ctsite.cli.upload as upload_cli

    assert release_cli.money is upload_cli.money is money
