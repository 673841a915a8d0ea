"""Where the Circos figure's words go: radial gene labels that never collide, and cell-type
names that never overlap or leave the picture. One computation, in pixels of the figure as
drawn for a width class, feeds both the interactive Plotly figure and the static picture.

Gene labels are radial: each reads outwards from its chord end (turned half a turn on the left
half of the circle so that it is never upside down), in the band between the rings and the
sector ring. Neighbouring radial labels are apart when their angles differ by at least
2·asin(h / 2r) (h: a line's height, r: where the text starts), so in each sector the labels are
spread along the circle (keeping their order, each as close to its chord end as the others
allow: a bounded isotonic fit) within the sector and half the gaps beside it, and drawn with a
short leader from the chord end. Only when a sector has more chord ends than room are labels
left out: searched genes are kept first, then the ends of the strongest chords; the others show
their name on hover (every ring cell does). At desktop width the font shrinks (down to
`DESKTOP.label_sizes[-1]`) before any label is left out.

Cell-type names are written along the circle outside the sector ring, each centred on its
sector; a name that would overlap its neighbour's moves out by a line, and when the names do not
fit the picture the circle shrinks until they do, so a name is always drawn whole.

Every width is measured with one measured font (`ctsite.figures.text_metrics`), the font the
figure asks for; `WidthClass` fixes the figure's size (desktop, tablet, phone), so the page
picks the class with a media query and scales the figure uniformly to its card (what does not collide at one scale does not
collide at any).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ctsite.figures.geometry import SECTOR_GAP, Sector
from ctsite.figures.text_metrics import line_height, text_width

# Chromium rounds a text box's ascent and descent to whole pixels of the drawn scale, so a box
# can be up to a pixel (at that scale) taller than the font's metrics say: each box reserves it
LABEL_PAD = 1.2
NAME_GAP = 4.0  # px between the sector ring and the first line of names
EDGE = 2.0  # px kept free at the picture's edge
MAX_NAME_LINES = 3


@dataclass(frozen=True)
class WidthClass:
    """The figure as drawn for one kind of screen: its size (px), where the circle goes (a
    square `circle` px wide at the top left), the label fonts to try (largest first), and the
    rings' radii as fractions of the sector ring's inner radius."""

    name: str
    width: float
    height: float
    circle: float
    label_sizes: tuple[float, ...]
    name_size: float
    chord: float
    hist: tuple[float, float]
    da: tuple[float, float]
    dc1: tuple[float, float]
    text: float  # where gene labels start
    band_end: float  # where they must end (the sector ring starts at 1.0)
    min_label_size: float  # a long name's font shrinks to fit the band, down to this
    sector: tuple[float, float] = (1.0, 1.04)
    media: str = ""  # the media query of the screens it is for ("": the default)

    @property
    def leader(self) -> tuple[float, float]:
        """A leader runs radially from just outside the dc1 ring to `knee`, then to the text."""
        start = self.dc1[1] + 0.005
        return start, start + (self.text - start) * 0.45


DESKTOP = WidthClass(
    "desktop", width=960, height=820, circle=820, label_sizes=(10.0, 9.0, 8.0), name_size=12.0,
    min_label_size=5.0,
    chord=0.55, hist=(0.56, 0.65), da=(0.66, 0.70), dc1=(0.71, 0.75), text=0.80, band_end=0.985,
)  # fmt: skip
TABLET = WidthClass(
    "tablet", width=680, height=540, circle=540, label_sizes=(9.0, 8.0), name_size=11.0,
    min_label_size=6.0, media="(max-width: 1279px)",
    chord=0.52, hist=(0.53, 0.62), da=(0.63, 0.67), dc1=(0.68, 0.72), text=0.77, band_end=0.985,
)  # fmt: skip
PHONE = WidthClass(
    "phone", width=340, height=490, circle=340, label_sizes=(9.5,), name_size=10.0,
    min_label_size=9.5, media="(max-width: 640px)",
    chord=0.40, hist=(0.41, 0.48), da=(0.49, 0.52), dc1=(0.53, 0.56), text=0.60, band_end=0.985,
)  # fmt: skip
# the default first; the page's <picture> tries the others' media queries narrowest first (its
# figure card is about the viewport less 60 px up to 900 px, less 430 px beside the controls)
WIDTH_CLASSES = {c.name: c for c in (DESKTOP, TABLET, PHONE)}


@dataclass(frozen=True)
class Candidate:
    """A chord end that wants a label: its text, slot angle, sector (index) and priority."""

    text: str
    theta: float
    sector: int
    highlighted: bool = False
    strength: float = 0.0
    bold: bool = False


@dataclass(frozen=True)
class Placed:
    """A text drawn at `centre` (px, y down), turned `angle` degrees clockwise, with the box
    (`width` × `height` px) the layout keeps free for it."""

    text: str
    centre: tuple[float, float]
    angle: float
    width: float
    height: float
    size: float
    bold: bool

    def corners(self) -> list[tuple[float, float]]:
        """The four corners of the turned box (px)."""
        cx, cy = self.centre
        a = math.radians(self.angle)
        ux, uy = math.cos(a), math.sin(a)
        vx, vy = -uy, ux
        hw, hh = self.width / 2, self.height / 2
        return [
            (cx + sx * hw * ux + sy * hh * vx, cy + sx * hw * uy + sy * hh * vy)
            for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1))
        ]


@dataclass(frozen=True)
class GeneLabel:
    placed: Placed
    index: int  # which candidate
    theta: float  # the chord end's angle
    phi: float  # the label's angle


@dataclass(frozen=True)
class CircosLayout:
    """Where everything goes for one width class: the circle (centre and the sector ring's
    inner radius, px), the gene labels drawn, the candidates left out, and the sector names."""

    width_class: WidthClass
    centre: tuple[float, float]
    radius: float
    labels: list[GeneLabel]
    left_out: list[int]
    names: list[Placed]
    label_size: float

    def point(self, r: float, theta: float) -> tuple[float, float]:
        """Polar (r in sector-ring radii, theta clockwise from the top) → px."""
        a = math.radians(theta)
        return self.centre[0] + r * self.radius * math.sin(a), self.centre[1] - (
            r * self.radius * math.cos(a)
        )


def overlap(a: Sequence[tuple[float, float]], b: Sequence[tuple[float, float]]) -> bool:
    """Whether two convex polygons overlap (separating axis test; touching is not overlap)."""
    for poly in (a, b):
        for i in range(len(poly)):
            x0, y0 = poly[i]
            x1, y1 = poly[(i + 1) % len(poly)]
            nx, ny = y0 - y1, x1 - x0
            pa = [nx * x + ny * y for x, y in a]
            pb = [nx * x + ny * y for x, y in b]
            if max(pa) <= min(pb) + 1e-6 or max(pb) <= min(pa) + 1e-6:
                return False
    return True


def _isotonic(values: np.ndarray) -> np.ndarray:
    """The non-decreasing sequence nearest `values` (least squares; pool adjacent violators)."""
    sums: list[float] = []
    counts: list[int] = []
    for v in values.tolist():
        sums.append(v)
        counts.append(1)
        while len(sums) > 1 and sums[-2] / counts[-2] > sums[-1] / counts[-1]:
            s, c = sums.pop(), counts.pop()
            sums[-1] += s
            counts[-1] += c
    return np.repeat([s / c for s, c in zip(sums, counts, strict=True)], counts)


def spread(thetas: np.ndarray, step: float, lo: float, hi: float) -> np.ndarray:
    """Angles as near `thetas` (sorted) as possible, at least `step` apart, in [lo, hi]
    (requires (n − 1)·step ≤ hi − lo)."""
    n = len(thetas)
    if n == 0:
        return thetas
    offsets = np.arange(n) * step
    fitted = np.clip(_isotonic(thetas - offsets), lo, hi - (n - 1) * step)
    return fitted + offsets


def label_angle(phi: float) -> float:
    """The turn (degrees clockwise) of a radial text at polar angle `phi`: reading outwards on
    the right half, inwards on the left half (never upside down)."""
    phi %= 360.0
    return phi - 90.0 if phi <= 180.0 else phi - 270.0


def name_angle(theta: float) -> float:
    """The turn of a text written along the circle at `theta`, upright on the bottom half."""
    theta %= 360.0
    return theta if theta <= 90.0 or theta >= 270.0 else theta - 180.0


def _names(
    sectors: Sequence[Sector], cls: WidthClass, radius: float, centre: float
) -> list[Placed] | None:
    """Each sector's name along the circle (moved out a line while it overlaps a neighbour's);
    None when one does not fit the picture."""
    size = cls.name_size
    h = line_height(size) + LABEL_PAD
    placed: list[Placed] = []
    for sector in sectors:
        w = text_width(sector.name, size, bold=True)
        for line in range(MAX_NAME_LINES):
            r = radius * cls.sector[1] + NAME_GAP + h / 2 + line * (h + 1)
            a = math.radians(sector.middle)
            box = Placed(
                sector.name,
                (centre + r * math.sin(a), centre - r * math.cos(a)),
                name_angle(sector.middle),
                w,
                h,
                size,
                True,
            )
            corners = box.corners()
            if all(not overlap(corners, p.corners()) for p in placed):
                break
        else:
            return None
        if any(not (EDGE <= x <= cls.circle - EDGE and EDGE <= y <= cls.circle - EDGE)
               for x, y in corners):  # fmt: skip
            return None
        placed.append(box)
    return placed


def _fit_names(sectors: Sequence[Sector], cls: WidthClass) -> tuple[float, list[Placed]]:
    """The largest circle whose names all fit the picture, and the names."""
    centre = cls.circle / 2
    h = line_height(cls.name_size) + LABEL_PAD
    radius = (centre - EDGE - NAME_GAP - h) / cls.sector[1]
    while radius > 20:
        names = _names(sectors, cls, radius, centre)
        if names is not None:
            return radius, names
        radius *= 0.97
    raise ValueError("the cell-type names do not fit the picture at any circle size")


def _priority(c: Candidate) -> tuple[bool, float, float]:
    return (not c.highlighted, -c.strength, c.theta)


def _plan(
    candidates: Sequence[Candidate],
    sectors: Sequence[Sector],
    step: float,
    eligible: Sequence[int],
) -> tuple[list[int], list[float], list[int]]:
    """Which candidates get a label and their angles, and the candidates left out.

    A sector keeps as many labels as its own arc (with half the gaps beside it) holds, its
    highest priorities first; the room other sectors leave goes to the crowded sectors' next
    labels in priority order. The labels kept are then spread over the whole circle, so a crowded
    sector's labels lean into the quieter sectors beside it (with longer leaders)."""
    gap = SECTOR_GAP if len(sectors) > 1 else 0.0
    lo, hi = step / 2, 360.0 - step / 2
    capacity = 0 if hi < lo else math.floor((hi - lo) / step + 1e-9) + 1
    by_sector: dict[int, list[int]] = {}
    for i in eligible:
        by_sector.setdefault(candidates[i].sector, []).append(i)
    kept: list[int] = []
    waiting: list[int] = []
    for s, members in sorted(by_sector.items()):
        room = math.floor((sectors[s].end - sectors[s].start + gap) / step + 1e-9)
        order = sorted(members, key=lambda i: _priority(candidates[i]))
        kept += order[:room]
        waiting += order[room:]
    waiting.sort(key=lambda i: _priority(candidates[i]))
    kept += waiting[: max(0, capacity - len(kept))]
    if len(kept) > capacity:  # the sectors' own rooms, rounded, can exceed the circle's
        kept = sorted(kept, key=lambda i: _priority(candidates[i]))[:capacity]
    kept.sort(key=lambda i: candidates[i].theta)
    left_out = sorted(set(range(len(candidates))) - set(kept))
    thetas = np.array([candidates[i].theta for i in kept])
    return kept, spread(thetas, step, lo, hi).tolist(), left_out


def layout_circos(
    sectors: Sequence[Sector], candidates: Sequence[Candidate], cls: WidthClass
) -> CircosLayout:
    """Place the sector names and the gene labels for width class `cls`."""
    radius, names = _fit_names(sectors, cls)
    centre = (cls.circle / 2, cls.circle / 2)
    start = cls.text * radius
    band = (cls.band_end - cls.text) * radius
    # a name too long for the band even at the smallest font is left out (searched genes never)
    eligible = [
        i
        for i, c in enumerate(candidates)
        if c.highlighted or text_width(c.text, cls.min_label_size, c.bold) <= band
    ]
    plan: tuple[list[int], list[float], list[int]] = ([], [], list(range(len(candidates))))
    size = cls.label_sizes[-1]
    for size in cls.label_sizes:
        h = line_height(size) + LABEL_PAD
        step = math.degrees(2 * math.asin(min(1.0, h / (2 * start))))
        plan = _plan(candidates, sectors, step, eligible)
        if not plan[2]:
            break
    kept, angles, left_out = plan
    labels: list[GeneLabel] = []
    for i, phi in zip(kept, angles, strict=True):
        c = candidates[i]
        own = size
        w = text_width(c.text, own, c.bold)
        if w > band:  # a long name gets a smaller font (and so a lower box), never cut
            own = size * band / w
            w = text_width(c.text, own, c.bold)
        r = start + w / 2
        a = math.radians(phi)
        placed = Placed(
            c.text,
            (centre[0] + r * math.sin(a), centre[1] - r * math.cos(a)),
            label_angle(phi),
            w,
            line_height(own) + LABEL_PAD,
            own,
            c.bold,
        )
        labels.append(GeneLabel(placed, i, c.theta, phi))
    return CircosLayout(cls, centre, radius, labels, left_out, names, size)
