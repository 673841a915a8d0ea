"""The one set of output formatters: money, bytes, durations and times, for people and JSON.

Every command renders numbers through these, so `release` and `upload-data` agree: zero dollars
is "$0.00", a positive amount under a cent is "<$0.01".
"""

from __future__ import annotations

import datetime as dt
from typing import Any


def money(dollars: float) -> str:
    """US dollars with cents: "$0.00" for nothing, "<$0.01" for less than a cent."""
    if 0 < dollars < 0.01:
        return "<$0.01"
    return f"${dollars:,.2f}"


def megabytes(n: int | float) -> str:
    """A byte count in (decimal) megabytes with one decimal: "1,234.5 MB"."""
    return f"{n / 1e6:,.1f} MB"


def duration(seconds: float) -> str:
    """Seconds below two minutes ("12.3 s"), minutes above ("4.2 min")."""
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min"


def utc_time(value: Any) -> str:
    """A datetime as `YYYY-MM-DD HH:MM UTC` (None as "", anything else as text)."""
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return aware.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return "" if value is None else str(value)


def clock(value: Any) -> str:
    """A datetime's UTC time of day `HH:MM:SS` ("--:--:--" when unknown)."""
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return aware.astimezone(dt.UTC).strftime("%H:%M:%S")
    return "--:--:--"


def iso(value: Any) -> Any:
    """A datetime as ISO 8601 text for JSON; other values unchanged."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value
