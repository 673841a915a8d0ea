"""Small helpers shared by the figure builders: JSON-safe numbers, hover text, empty figures."""

from __future__ import annotations

import functools
import html
import math
from collections.abc import Iterable
from typing import Any

import numpy as np

EMPTY_MESSAGE = "No interactions — try loosening the filters"
# An interaction row's two ends and its counts: the first columns of every figure's CSV table
PAIR_COLUMNS = [
    "ligand",
    "cell_type_ligand",
    "receptor",
    "cell_type_receptor",
    "numSigI1",
    "numDEG",
]
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"


def num(value: Any, digits: int = 4) -> float | None:
    """A JSON-safe rounded float (None for NaN/None/inf)."""
    if value is None:
        return None
    v = float(value)
    if not math.isfinite(v):
        return None
    return round(v, digits)


def fraction(values: Any) -> Any:
    """Expression fractions as compared by the filters: rounded to 6 decimals.

    The store keeps fractions of cells as float32, so 30 % reads back as 0.30000001; rounding
    (far below the 1/n resolution of any real cell count) lets "≥ 0.3" and "> 0.3" mean what
    they say.
    """
    return np.round(values, 6)


def nums(values: Iterable[Any], digits: int = 4) -> list[float | None]:
    """JSON-safe rounded floats (NaN/inf → None), vectorized."""
    arr = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype=float)
    out = np.round(arr, digits).tolist()
    if arr.size and not np.isfinite(arr).all():
        out = [v if math.isfinite(v) else None for v in out]
    return out


def fmt(value: Any, digits: int = 3) -> str:
    """A value for hover text: numbers compactly, NaN as 'n/a'."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    try:
        v = float(value)
    except (TypeError, ValueError):
        return esc(value)
    if not math.isfinite(v):
        return "n/a"
    if v != 0 and abs(v) < 10 ** (-digits):
        return f"{v:.2e}"
    return f"{v:.{digits}g}" if abs(v) >= 1000 else f"{round(v, digits):g}"


@functools.lru_cache(maxsize=65536)
def _esc(value: str) -> str:
    return html.escape(value, quote=False)


def esc(value: Any) -> str:
    """HTML-escape a name for Plotly hover/label text (gene and cell-type names are data)."""
    return _esc(str(value))


def fmt_many(values: Any) -> list[str]:
    """`fmt` for a whole float array at once (3 significant digits, NaN → 'n/a')."""
    return [
        "n/a" if not math.isfinite(v) else f"{v:.3g}"
        for v in np.asarray(values, dtype=float).tolist()
    ]


def role(is_ligand: bool, is_receptor: bool) -> str:
    """'ligand' | 'receptor' | 'both' | 'gene'."""
    if is_ligand and is_receptor:
        return "both"
    if is_ligand:
        return "ligand"
    if is_receptor:
        return "receptor"
    return "gene"


ROLE_LABEL = {
    "ligand": "Ligand",
    "receptor": "Receptor",
    "both": "Ligand & receptor",
    "gene": "Other gene",
}


def partners_text(partners: list[str], limit: int = 8) -> str:
    if not partners:
        return "none shown"
    shown = ", ".join(partners[:limit])
    return shown + (f" … (+{len(partners) - limit})" if len(partners) > limit else "")


def base_layout(height: int = 760) -> dict[str, Any]:
    """Layout settings common to all figures (white, no grid, hover closest)."""
    return {
        "height": height,
        "autosize": True,
        "hovermode": "closest",
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "font": {"family": FONT, "size": 12, "color": "#222222"},
        "margin": {"l": 20, "r": 20, "t": 30, "b": 20},
        "hoverlabel": {"font": {"family": FONT, "size": 12}},
    }


def hidden_axis() -> dict[str, Any]:
    return {"visible": False, "showgrid": False, "zeroline": False, "showticklabels": False}


def empty_figure(message: str) -> dict[str, Any]:
    """A figure with no data that shows `message` in its middle."""
    layout = base_layout(height=420)
    layout.update(
        {
            "xaxis": {**hidden_axis(), "range": [-1, 1]},
            "yaxis": {**hidden_axis(), "range": [-1, 1]},
            "annotations": [
                {
                    "x": 0,
                    "y": 0,
                    "xref": "x",
                    "yref": "y",
                    "text": esc(message),
                    "showarrow": False,
                    "font": {"size": 18, "color": "#8a1c1c"},
                }
            ],
        }
    )
    return {"data": [], "layout": layout}


def legend_marker(name: str, symbol: str, color: str, group: str, title: str) -> dict[str, Any]:
    """A legend-only scatter entry (no points) explaining a marker symbol or colour."""
    return {
        "type": "scatter",
        "x": [None],
        "y": [None],
        "mode": "markers",
        "name": name,
        "legendgroup": group,
        "legendgrouptitle": {"text": title},
        "showlegend": True,
        "hoverinfo": "skip",
        "marker": {
            "symbol": symbol,
            "color": color,
            "size": 12,
            "line": {"width": 1, "color": "#333"},
        },
    }


def legend_line(name: str, width: float, group: str, title: str) -> dict[str, Any]:
    """A legend-only line entry explaining an edge/chord width."""
    return {
        "type": "scatter",
        "x": [None],
        "y": [None],
        "mode": "lines",
        "name": name,
        "legendgroup": group,
        "legendgrouptitle": {"text": title},
        "showlegend": True,
        "hoverinfo": "skip",
        "line": {"width": width, "color": "#777777"},
    }


def arrow_trace(
    x0: float, y0: float, x1: float, y1: float, color: str, width: float, head: float,
    meta: dict[str, str], *, dash: str | None = None, opacity: float | None = None,
    marker_line: dict[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """One directed edge: a line with an arrowhead at its end (hover is on the midpoint trace)."""
    line: dict[str, Any] = {"color": color, "width": num(width, 2)}
    if dash:
        line["dash"] = dash
    marker: dict[str, Any] = {
        "symbol": "arrow", "angleref": "previous", "size": [0, num(head, 1)], "color": color,
    }  # fmt: skip
    if marker_line:
        marker["line"] = marker_line
    trace: dict[str, Any] = {
        "type": "scatter",
        "mode": "lines+markers",
        "x": [num(x0), num(x1)],
        "y": [num(y0), num(y1)],
        "line": line,
        "marker": marker,
        "hoverinfo": "skip",
        "showlegend": False,
        "meta": meta,
    }
    if opacity is not None:
        trace["opacity"] = opacity
    return trace


def edge_midpoints_trace(
    xs: list[float | None], ys: list[float | None], values: list[float | None], hover: list[str],
    *, colorscale: Any, cmin: float, cmax: float, title: str, size: float, length: float,
    line_color: str, opacity: float | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Hoverable markers at the edges' midpoints, coloured by value, with the colour bar."""
    marker: dict[str, Any] = {"size": size}
    if opacity is not None:
        marker["opacity"] = opacity
    marker.update(
        {
            "color": values,
            "colorscale": colorscale,
            "cmin": cmin,
            "cmax": cmax,
            "line": {"width": 0.5, "color": line_color},
            "showscale": True,
            "colorbar": {
                "title": {"text": title, "side": "right"},
                "thickness": 12,
                "len": length,
                "y": 1.0,
                "yanchor": "top",
                "outlinewidth": 0,
            },
        }
    )
    return {
        "type": "scatter",
        "mode": "markers",
        "name": "edges",
        "x": xs,
        "y": ys,
        "marker": marker,
        "hovertext": hover,
        "hoverinfo": "text",
        "showlegend": False,
    }
