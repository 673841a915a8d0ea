"""Content negotiation of the response encoding: one rule for every gzip decision of the site."""

from __future__ import annotations

from flask import request


def accepts_gzip() -> bool:
    """Whether the client takes gzip, by Werkzeug's parsed Accept-Encoding (q-values, `*`)."""
    return request.accept_encodings["gzip"] > 0
