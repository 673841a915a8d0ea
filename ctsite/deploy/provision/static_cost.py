"""THE monthly cost of the static site on S3 + CloudFront, for a traffic the user sets.

Pure arithmetic on the `price_*` list prices of `[static]` (their source and date are beside
them in `ctsite.config`); nothing is asked of AWS. Each line is priced twice: at list price,
without any free tier, and with CloudFront's always-free tier counted (1 TB out, 10 million
HTTP/HTTPS requests and 2 million CloudFront Functions invocations a month, per account, for
ever). S3's free tier lasts only twelve months from the account's creation and is NOT assumed.

What is counted:
- storage: the bucket's size (the export's, else `static_site_gb`) × S3 Standard GB-month;
- S3 GET requests from CloudFront: one per request, as if CloudFront's cache never hit (an
  upper bound; data from S3 to CloudFront is free);
- CloudFront HTTPS requests and data transfer out: views × requests (bytes) per view;
- CloudFront Functions: one invocation per page request (the function runs on pages only,
  one page a view).
Publishing (S3 PUTs, invalidations beyond the free 1,000 paths a month) is not.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ctsite.config import Settings

GB = 2**30  # AWS bills data in GiB ("GB" on its price pages)
# CloudFront's always-free tier (aws.amazon.com/cloudfront/pricing, 2026-12), per month.
FREE_CLOUDFRONT_GB = 1024.0  # 1 TB of data transfer out
FREE_CLOUDFRONT_REQUESTS = 10_000_000
FREE_FUNCTION_INVOCATIONS = 2_000_000
FREE_TIER = (
    "CloudFront's always-free tier counted (1 TB out, 10 M requests, 2 M function calls a "
    "month); S3's 12-month free tier not assumed"
)


@dataclasses.dataclass(frozen=True)
class Traffic:
    """What a month of the site is: page views, and what one view fetches."""

    views: int
    requests_per_view: float
    bytes_per_view: int
    site_bytes: int  # what the bucket holds
    source: str  # where bytes and requests per view come from: an export folder, or "estimate"

    @classmethod
    def estimate(cls, settings: Settings) -> Traffic:
        """The documented estimate (`static_*` settings): no export folder given."""
        return cls(
            settings.static_monthly_views,
            settings.static_requests_per_view,
            settings.static_bytes_per_view,
            round(settings.static_site_gb * GB),
            "estimate",
        )


@dataclasses.dataclass(frozen=True)
class PriceLine:
    item: str
    list_usd: float  # at list price, no free tier
    monthly_usd: float  # with CloudFront's always-free tier counted


@dataclasses.dataclass(frozen=True)
class StaticCost:
    traffic: Traffic
    lines: list[PriceLine]
    eb_monthly_usd: float | None = None  # the Elastic Beanstalk site's estimate, to compare

    @property
    def monthly_usd(self) -> float:
        return round(sum(line.monthly_usd for line in self.lines), 2)

    @property
    def list_usd(self) -> float:
        return round(sum(line.list_usd for line in self.lines), 2)

    def to_json(self) -> dict[str, Any]:
        return {
            "traffic": dataclasses.asdict(self.traffic),
            "lines": [dataclasses.asdict(line) for line in self.lines],
            "monthly_usd": self.monthly_usd,
            "list_usd": self.list_usd,
            "free_tier": FREE_TIER,
            "eb_monthly_usd": self.eb_monthly_usd,
        }


def _beyond(amount: float, free: float) -> float:
    return max(0.0, amount - free)


def static_cost(
    settings: Settings, traffic: Traffic, eb_monthly_usd: float | None = None
) -> StaticCost:
    """THE formula: storage + S3 GETs + CloudFront requests, transfer and function calls."""
    requests = traffic.views * traffic.requests_per_view
    out_gb = traffic.views * traffic.bytes_per_view / GB
    site_gb = traffic.site_bytes / GB
    storage = site_gb * settings.price_s3_gb_month
    gets = requests / 1000 * settings.price_s3_get_per_1000
    per_request = settings.price_cloudfront_https_per_10000 / 10_000
    per_call = settings.price_cloudfront_function_per_million / 1e6
    lines = [
        PriceLine(f"S3 storage, {site_gb * 1024:,.1f} MB", storage, storage),
        PriceLine(f"S3 GET requests from CloudFront, {requests:,.0f} (no cache hits)", gets, gets),
        PriceLine(
            f"CloudFront HTTPS requests, {requests:,.0f}",
            requests * per_request,
            _beyond(requests, FREE_CLOUDFRONT_REQUESTS) * per_request,
        ),
        PriceLine(
            f"CloudFront data transfer out, {out_gb:,.2f} GB",
            out_gb * settings.price_cloudfront_gb,
            _beyond(out_gb, FREE_CLOUDFRONT_GB) * settings.price_cloudfront_gb,
        ),
        PriceLine(
            f"CloudFront Function calls, {traffic.views:,} (one per page)",
            traffic.views * per_call,
            _beyond(traffic.views, FREE_FUNCTION_INVOCATIONS) * per_call,
        ),
    ]
    return StaticCost(
        traffic,
        [PriceLine(x.item, round(x.list_usd, 4), round(x.monthly_usd, 4)) for x in lines],
        eb_monthly_usd,
    )
