"""Pure geometry of the figures: Circos sector/slot angles, chord curves, timeline/column layouts.

Angles are degrees measured clockwise from the top (Plotly polar with `direction="clockwise"`,
`rotation=90`); `to_xy`/`to_polar` convert with that same convention.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SECTOR_GAP = 2.0  # degrees between two sectors
# degrees: an arc is drawn as straight pieces no longer than this (at most 0.05 px off the true
# arc at the figures' sizes)
ARC_STEP = 2.0


@dataclass(frozen=True)
class Sector:
    name: str
    start: float  # degrees
    end: float
    count: int

    @property
    def middle(self) -> float:
        return (self.start + self.end) / 2

    @property
    def slot(self) -> float:
        """Angular width of one target slot."""
        return (self.end - self.start) / self.count if self.count else 0.0

    def angle(self, index: int) -> float:
        """Centre angle of the index-th target of this sector."""
        return self.start + (index + 0.5) * self.slot


def sectors(counts: Sequence[tuple[str, int]], gap: float = SECTOR_GAP) -> list[Sector]:
    """Lay out sectors around the circle, in order, each sized by its number of targets."""
    counts = [(name, n) for name, n in counts if n > 0]
    total = sum(n for _, n in counts)
    if total == 0:
        return []
    gaps = gap * len(counts) if len(counts) > 1 else 0.0
    usable = 360.0 - gaps
    out: list[Sector] = []
    start = gap / 2 if len(counts) > 1 else 0.0
    for name, n in counts:
        span = usable * n / total
        out.append(Sector(name=name, start=start, end=start + span, count=n))
        start += span + (gap if len(counts) > 1 else 0.0)
    return out


def to_xy(r: float, theta_deg: float) -> tuple[float, float]:
    t = math.radians(theta_deg)
    return r * math.sin(t), r * math.cos(t)


def to_polar(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r = np.hypot(x, y)
    theta = np.degrees(np.arctan2(x, y)) % 360.0
    return r, theta


def chord_curve(
    theta_from: float, theta_to: float, radius: float, points: int = 16, pull: float = 0.15
) -> tuple[np.ndarray, np.ndarray]:
    """A quadratic Bézier from (radius, theta_from) to (radius, theta_to) bent towards the centre.

    Returns polar (r, theta) arrays. `pull` is the control point's distance from the centre as a
    fraction of radius, along the bisector (0 = through the centre).
    """
    x0, y0 = to_xy(radius, theta_from)
    x2, y2 = to_xy(radius, theta_to)
    mx, my = (x0 + x2) / 2, (y0 + y2) / 2
    norm = math.hypot(mx, my)
    if norm > 1e-9:
        cx, cy = mx / norm * radius * pull, my / norm * radius * pull
    else:
        cx, cy = 0.0, 0.0
    t = np.linspace(0.0, 1.0, points)
    a, b, c = (1 - t) ** 2, 2 * (1 - t) * t, t**2
    x = a * x0 + b * cx + c * x2
    y = a * y0 + b * cy + c * y2
    return to_polar(x, y)


def chord_beziers(
    theta_from: np.ndarray, theta_to: np.ndarray, radius: float, pull: float = 0.15
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The quadratic Béziers of `chord_curves`: (x0, y0, cx, cy, x2, y2), the two ends and the
    control point in the polar plane (x = r·sin θ, y = r·cos θ: clockwise from the top)."""
    a0, a2 = np.radians(np.asarray(theta_from, float)), np.radians(np.asarray(theta_to, float))
    x0, y0 = radius * np.sin(a0), radius * np.cos(a0)
    x2, y2 = radius * np.sin(a2), radius * np.cos(a2)
    mx, my = (x0 + x2) / 2, (y0 + y2) / 2
    norm = np.hypot(mx, my)
    safe = np.where(norm > 1e-9, norm, 1.0)
    cx = np.where(norm > 1e-9, mx / safe * radius * pull, 0.0)
    cy = np.where(norm > 1e-9, my / safe * radius * pull, 0.0)
    return x0, y0, cx, cy, x2, y2


def chord_curves(
    theta_from: np.ndarray,
    theta_to: np.ndarray,
    radius: float,
    points: int = 9,
    pull: float = 0.15,
) -> tuple[np.ndarray, np.ndarray]:
    """`chord_curve` for many chords at once: (n, points) arrays of polar r and theta."""
    x0, y0, cx, cy, x2, y2 = chord_beziers(theta_from, theta_to, radius, pull)
    t = np.linspace(0.0, 1.0, points)[None, :]
    a, b, c = (1 - t) ** 2, 2 * (1 - t) * t, t**2
    x = a * x0[:, None] + b * cx[:, None] + c * x2[:, None]
    y = a * y0[:, None] + b * cy[:, None] + c * y2[:, None]
    return to_polar(x, y)


def arc_pieces(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """How many straight pieces draw each arc [start, end] (degrees): the fewest no longer than
    ARC_STEP, at least one."""
    spans = np.asarray(ends, float) - np.asarray(starts, float)
    return np.maximum(1, np.ceil(spans / ARC_STEP)).astype(np.int64)


def arc_points(starts: np.ndarray, ends: np.ndarray, pieces: np.ndarray) -> np.ndarray:
    """The angles of arcs cut into `pieces`, arc after arc: start + (end − start)·k / n for
    k = 0..n."""
    owner, k = _runs(pieces + 1)
    return starts[owner] + (ends - starts)[owner] * k / pieces[owner]


def _runs(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Runs of `counts[i]` values each, laid end to end: for every value, its run's index and
    its place in the run (0, 1, …)."""
    owner = np.repeat(np.arange(len(counts)), counts)
    k = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    return owner, k


def skyline(
    base: float, starts: np.ndarray, ends: np.ndarray, tops: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Bars on a circle (each from angle start to end, radius base up to its top; in angle
    order, not overlapping) as ONE closed polygon without gaps, polar (r, theta).

    Plotly makes an SVG element of every gap-separated piece of a trace, so the bars are one
    outline: forward along each block of touching bars (up from the base at its start, along
    every bar's top, down at its end, then straight on to the next block), back along the base
    of every block in reverse. The back path retraces each straight piece between blocks
    exactly, so those enclose nothing; every block is enclosed once."""
    starts, ends = np.asarray(starts, float), np.asarray(ends, float)
    tops = np.asarray(tops, float)
    n = len(starts)
    if n == 0:
        return np.empty(0), np.empty(0)
    first = np.ones(n, dtype=bool)
    first[1:] = np.abs(starts[1:] - ends[:-1]) > 1e-6
    last = np.append(first[1:], True)
    pieces = arc_pieces(starts, ends)
    # forward: [base at start if a block starts] + the top, cut into pieces + [base at end]
    owner, k = _runs(pieces + 1 + first + last)
    k = k - first[owner]  # −1: the base at the start; pieces + 1: the base at the end
    on_top = (k >= 0) & (k <= pieces[owner])
    along = starts[owner] + (ends - starts)[owner] * np.clip(k, 0, None) / pieces[owner]
    theta = np.where(k < 0, starts[owner], np.where(on_top, along, ends[owner]))
    r = np.where(on_top, tops[owner], base)
    # back along the bases, last block first (its end is where the forward path stopped)
    block_start, block_end = starts[first][::-1], ends[last][::-1]
    back = arc_points(block_end, block_start, arc_pieces(block_start, block_end))
    return np.concatenate([r, np.full(len(back) - 1, base)]), np.concatenate([theta, back[1:]])


def slot_angles(layout: Sequence[Sector]) -> tuple[np.ndarray, np.ndarray]:
    """Centre angle and angular width of every target slot, sector after sector."""
    if not layout:
        return np.empty(0), np.empty(0)
    thetas = np.concatenate([s.start + (np.arange(s.count) + 0.5) * s.slot for s in layout])
    widths = np.concatenate([np.full(s.count, s.slot) for s in layout])
    return thetas, widths


def text_position(theta_deg: float) -> str:
    """Where to put a label at this angle so that it reads outwards from the circle."""
    t = theta_deg % 360.0
    if t < 20 or t > 340:
        return "top center"
    if 160 < t < 200:
        return "bottom center"
    return "middle right" if t < 180 else "middle left"


def column_positions(counts: Sequence[int], spacing: float = 1.0) -> list[list[float]]:
    """y positions of the items of each column, top to bottom, each column centred on 0."""
    out = []
    for n in counts:
        top = (n - 1) * spacing / 2
        out.append([top - i * spacing for i in range(n)])
    return out


def shorten(
    x0: float, y0: float, x1: float, y1: float, start: float, end: float
) -> tuple[float, float, float, float]:
    """Pull a segment's ends inwards by `start` and `end` (data units) so arrows meet node edges."""
    dx, dy = x1 - x0, y1 - y0
    length = math.hypot(dx, dy)
    if length <= start + end or length == 0:
        return x0, y0, x1, y1
    ux, uy = dx / length, dy / length
    return x0 + ux * start, y0 + uy * start, x1 - ux * end, y1 - uy * end


def scale(value: float, lo: float, hi: float, out_lo: float, out_hi: float) -> float:
    """Map value from [lo, hi] to [out_lo, out_hi] (clipped; a flat range gives the middle)."""
    if not math.isfinite(value):
        return out_lo
    if hi <= lo:
        return (out_lo + out_hi) / 2
    f = min(1.0, max(0.0, (value - lo) / (hi - lo)))
    return out_lo + f * (out_hi - out_lo)
