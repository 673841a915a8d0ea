"""The study's identity on the site: the one the open store carries, and how to cite it.

`current_identity()` is the identity compiled into the store the site serves (so a new version
brings its texts with the pointer switch); with no readable store, or one compiled before
identities travelled with the data, it is the `[site]` settings'. From it come the home page's
schema.org `Dataset` JSON-LD and the `CITATION.cff` / BibTeX downloads (offered only when the
lab set a citation or a DOI). Every text is escaped by a serializer (JSON with `<`, `>`, `&`
escaped for a script element; YAML double-quoted scalars; BibTeX braces, and LaTeX's special
characters as the commands that print them), never pasted in.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import current_app
from markupsafe import Markup

from ctsite.errors import CtsiteError
from ctsite.identity import site_identity
from ctsite.store.identity import Identity

CFF_MIMETYPE = "application/x-yaml"
BIBTEX_MIMETYPE = "application/x-bibtex"


def current_identity() -> Identity:
    """The open store's identity, else the settings' (never raises: error pages use it too)."""
    from ctsite.web.entries import settings

    try:
        identity = current_app.extensions["ctsite_store"].get().identity
    except CtsiteError:
        identity = None
    if identity is not None:
        return identity
    s = settings()
    try:
        return site_identity(s)
    except CtsiteError:  # a bad [site] link: show the plain texts, never an error page's error
        return Identity(title=s.site_title, subtitle=s.site_subtitle, contact=s.site_contact)


def json_ld(identity: Identity) -> Markup:
    """The schema.org `Dataset` of the home page (only the fields that are set), safe inside a
    `<script type="application/ld+json">` element. No URL of the site: it would come from the
    request's Host header, which a client chooses."""
    doc: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Dataset",
        "name": identity.title,
    }
    if identity.subtitle or identity.about:
        doc["description"] = identity.about or identity.subtitle
    if identity.citation:
        doc["citation"] = identity.citation
    if identity.doi:
        doc["identifier"] = identity.doi_url
    if identity.license:
        doc["license"] = identity.license
    if identity.data_links:
        doc["distribution"] = [
            {"@type": "DataDownload", "name": label, "contentUrl": link}
            for label, link in identity.data_links
        ]
    if identity.contact:
        doc["creator"] = {"@type": "Organization", "name": identity.contact}
    text = json.dumps(doc, ensure_ascii=False, indent=1)
    for raw, escaped in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e")):
        text = text.replace(raw, escaped)  # inside JSON strings only: JSON has no other < > &
    return Markup(text)  # noqa: S704 - every character that could end the script is escaped


def _yaml(text: str) -> str:
    """A YAML double-quoted scalar: JSON's string syntax is a subset of it."""
    return json.dumps(text, ensure_ascii=False)


def citation_cff(identity: Identity) -> str:
    """A CITATION.cff (Citation File Format 1.2.0) of the site's dataset. The format needs an
    author; the lab's contact (else the site's title) stands for it, the full author list being
    in the citation text (`message`)."""
    message = "If you use these data, please cite them as below."
    if identity.citation:
        message = f"If you use these data, please cite: {identity.citation}"
    lines = [
        'cff-version: "1.2.0"',
        f"message: {_yaml(message)}",
        f"title: {_yaml(identity.title)}",
        "type: dataset",
        "authors:",
        f"  - name: {_yaml(identity.contact or identity.title)}",
    ]
    if identity.doi:
        lines.append(f"doi: {_yaml(identity.doi)}")
    if identity.license:
        lines.append(f"license: {_yaml(identity.license)}")
    return "\n".join(lines) + "\n"


# LaTeX's special characters as the commands that print them (braces and backslashes are
# dropped before: they could unbalance the entry's brace group).
_LATEX = {
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def _bibtex_text(text: str) -> str:
    """Text inside a BibTeX brace group that LaTeX typesets as written: braces and backslashes
    cannot unbalance it, `&`, `%`, `$`, `#`, `_`, `~`, `^` are printed, not read as markup."""
    return re.sub(r"[&%$#_~^]", lambda m: _LATEX[m.group(0)], _bibtex_verbatim(text))


def _bibtex_verbatim(text: str) -> str:
    """A verbatim field (the DOI, which biblatex prints as is): only what unbalances braces."""
    return re.sub(r"[{}\\]", "", text)


def bibtex(identity: Identity) -> str:
    """A BibTeX `@misc` entry of the site's dataset (its note holds the citation text)."""
    key = re.sub(r"[^A-Za-z0-9]+", "", identity.name)[:40] or "dataset"
    fields = [("title", _bibtex_text(identity.title))]
    if identity.citation:
        fields.append(("note", _bibtex_text(identity.citation)))
    if identity.doi:
        fields.append(("doi", _bibtex_verbatim(identity.doi)))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@misc{{{key},\n{body}\n}}\n"
