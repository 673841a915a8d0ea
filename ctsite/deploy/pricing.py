"""THE price of an upload: server time at the Transfer Family hourly rate plus the bytes moved at
the per-GB rate, one formula for the upload's plan (`upload-data --dry-run`), its result and the
release plan.

Before an upload runs its server time is assumed: a fixed startup (creating the server and
bringing it ONLINE takes minutes) plus the bytes moved at an assumed link speed. Bytes read back
to confirm a store version are priced like bytes sent (the same link time, the same per-GB rate).
Pure arithmetic: the rates come from the settings (`Rates.of`), nothing is asked of AWS.
"""

from __future__ import annotations

import dataclasses

from ctsite.config import Settings

ASSUMED_BYTES_PER_S = 20e6
ASSUMED_STARTUP_S = 300.0


def link_seconds(moved: int) -> float:
    """The link time of moving `moved` bytes at the assumed speed."""
    return moved / ASSUMED_BYTES_PER_S


def assumed_seconds(moved: int) -> float:
    """The server time an upload moving `moved` bytes is priced at before it runs."""
    return ASSUMED_STARTUP_S + link_seconds(moved)


@dataclasses.dataclass(frozen=True)
class Rates:
    """US dollars per server hour and per GB moved (settings transfer_hourly_cost,
    transfer_gb_cost)."""

    hourly: float = 0.30
    per_gb: float = 0.04

    @classmethod
    def of(cls, settings: Settings) -> Rates:
        return cls(settings.transfer_hourly_cost, settings.transfer_gb_cost)

    def cost(self, seconds: float, moved: int) -> float:
        """THE formula: `seconds` of server time plus `moved` bytes."""
        return seconds / 3600 * self.hourly + moved / 1e9 * self.per_gb

    def upload(self, upload_bytes: int, read_back: int = 0) -> float:
        """An upload sending `upload_bytes` and reading `read_back` bytes back to confirm them,
        priced before it runs (its server time assumed)."""
        moved = upload_bytes + read_back
        return self.cost(assumed_seconds(moved), moved)


# CloudWatch: the first 10 standard-resolution alarm metrics of an account are free, each one
# more costs this much a month (us-east-2 list price, 2026).
FREE_ALARM_METRICS = 10
ALARM_METRIC_MONTHLY = 0.10


@dataclasses.dataclass(frozen=True)
class AlarmTier:
    """A stack's alarms against CloudWatch's free tier: its alarm metrics plus every other
    alarm metric of the region (the free 10 are per account; other regions are not counted)."""

    stack: int
    others: int

    @property
    def total(self) -> int:
        return self.stack + self.others

    @property
    def within_free_tier(self) -> bool:
        return self.total <= FREE_ALARM_METRICS

    @property
    def monthly_usd(self) -> float:
        """What the alarm metrics beyond the free 10 cost a month (all of them, not only this
        stack's)."""
        return round(max(0, self.total - FREE_ALARM_METRICS) * ALARM_METRIC_MONTHLY, 2)
