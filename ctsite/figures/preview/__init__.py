"""A static SVG picture of a figure, drawn in Python from the same Plotly figure dict.

The figure pages show this picture first (it is part of the HTML, so nothing has to run in the
browser before the figure is seen) and swap in the interactive Plotly figure on the first
interaction. It draws exactly what the figures use: `scatter` and `scatterpolar` lines (straight
or spline), filled areas (`fill: "toself"`), markers (the symbols of the three figures, per-point
colours, sizes and opacities, colour scales) and text, `barpolar` bars, rectangle shapes and path
shapes in paper coordinates (ring cells thinner than a pixel drawn as lines along them, as bars
that thin are), annotations, the x axis' tick labels,
colour bars and a horizontal legend, laid out the way Plotly lays them out (margins pushed by the
legend and the colour bars, polar domains kept square). It is a faithful picture, not a pixel copy:
text widths are estimated, and hover, zoom and every other interaction belong to Plotly.

Every string that reaches the SVG is escaped and every colour is checked, so names from the data
can never become markup.

The modules, in the order the data flows: `values` reads numbers and per-point properties out of
the figure dict, `svg` writes markup (numbers, escaped attributes and text, text widths), `paint`
checks colours and reads colour scales, `paths` builds path data (marker symbols, polylines,
splines, shapes' paths), `frame` maps paper, x/y and polar coordinates to px, `legend` and `colorbar` lay out
and draw those and push the margins, `traces` draws the bars, lines, markers and text, and
`render` puts it together (shapes, annotations, the x axis) in `figure_svg`.
"""

from __future__ import annotations

from ctsite.figures.preview.paths import symbol_path
from ctsite.figures.preview.render import figure_svg
from ctsite.figures.preview.svg import NOMINAL_WIDTH, text_width

__all__ = ["NOMINAL_WIDTH", "figure_svg", "symbol_path", "text_width"]
