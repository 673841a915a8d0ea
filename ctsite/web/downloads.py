"""What a downloaded figure file is called and the provenance it carries.

A CSV, SVG or PNG saved from the site travels alone (into a lab notebook, a supplement, an
e-mail), so each one names itself after the figure, the condition and the main thresholds, and
carries where it came from: the site, the store version, the parameters, the ctsite version and
the URL that draws the same view again. The CSV carries it as leading `#` comment lines
(`pandas.read_csv(..., comment="#")`, R's `read.csv(..., comment.char="#")`), so a file never
loses its provenance the way a sidecar would; figure.js writes the same fields into the SVG's
`<metadata>` and the PNG's `tEXt` chunks, from the page's copy of `base_provenance`.

The file-name rule is repeated in figure.js (`fileName`) for the SVG/PNG exports; the browser
tests check that both give the same name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from ctsite import __version__
from ctsite.figures import FigureSpec
from ctsite.figures.params import format_value

MAIN_KINDS = ("fdr", "int")  # the thresholds a file name carries (FDR cutoffs, minimum counts)
_UNSAFE = re.compile(r"[^A-Za-z0-9.-]+")


def slug(text: str) -> str:
    """A file-name-safe form of a label: runs of anything else become one underscore."""
    return _UNSAFE.sub("_", text).strip("_")[:60] or "x"


def download_stem(spec: FigureSpec, condition_label: str, params: Mapping[str, Any]) -> str:
    """e.g. `pairwise_CIN_STING-dependent_interactions_fdr_i0.25_fdr_l0.05_min_numsigi1-10`."""
    parts = [spec.name, slug(condition_label)]
    for control in spec.controls:
        if control.kind in MAIN_KINDS and params.get(control.name) is not None:
            value = params[control.name]
            text = f"{value:g}" if isinstance(value, float) else str(value)
            parts.append(f"{control.name}-{text}")
    return "_".join(parts)


def base_provenance(site: str, store: Any) -> dict[str, str]:
    """The fields that do not depend on the view (the page hands them to figure.js)."""
    return {
        "site": site,
        "store_version": str(getattr(store, "version", "") or ""),
        "store_fingerprint": str(store.fingerprint),
        "ctsite_version": __version__,
    }


def provenance(
    site: str, store: Any, spec: FigureSpec, params: Mapping[str, Any], page_url: str
) -> dict[str, str]:
    """Every field, for one view: `page_url` is the figure page's address (scheme, host, path)."""
    query = urlencode(
        [
            (c.name, format_value(params[c.name]))
            for c in spec.controls
            if params.get(c.name) is not None
        ]
    )
    return {
        "figure": spec.title,
        **base_provenance(site, store),
        "parameters": query,
        "url": f"{page_url}?{query}",
    }


def csv_header(fields: Mapping[str, str]) -> bytes:
    """The leading comment lines of a CSV (one `# key: value` per field, no line breaks)."""
    lines = [f"# {key}: {' '.join(str(value).split())}\n" for key, value in fields.items()]
    return "".join(lines).encode("utf-8")
