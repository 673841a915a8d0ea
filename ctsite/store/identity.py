"""The study's identity: what the site says about whose study it shows (title, citation, DOI …).

It is written into every compiled version (`format.IDENTITY`, one of the version's content-named
objects, so the integrity check covers it) and read back by the website, the Python API and an
export: the texts travel with the data, so a site started anywhere (an Elastic Beanstalk
container with no ctsite.toml) shows the lab's own paper, and a new version reaches a running site
with the pointer switch. Stores compiled before it existed have none: readers then fall back to
the settings. Standard library only (the slim web image and the quick compile check import it).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, fields
from typing import Any

from ctsite.errors import ConfigError
from ctsite.store.format import IDENTITY

METHOD_DOI = "10.1038/s41586-023-06464-z"
METHOD_CREDIT = f"ContactTracing — Li et al., Nature 2023, doi:{METHOD_DOI}"
METHOD_URL = "https://github.com/LaughneyLab/ContactTracing_tutorial"
DOI = re.compile(r"^10\.\d{4,9}/\S+$")
_DOI_PREFIXES = ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "doi:")


@dataclass(frozen=True)
class Identity:
    """Who the site speaks for. Empty strings are unset: a page shows only what is set."""

    title: str
    short_title: str = ""
    subtitle: str = ""
    about: str = ""  # the home page's summary of the study
    citation: str = ""  # how to cite the study, as text
    doi: str = ""  # bare DOI, `10.…/…`
    paper_url: str = ""
    data_links: tuple[tuple[str, str], ...] = ()  # (label, URL): GEO, Zenodo …
    license: str = ""
    contact: str = ""  # an e-mail address, a URL or text
    method_credit: str = METHOD_CREDIT  # the method's own line, never the study's citation
    method_url: str = METHOD_URL
    demo: bool = False  # synthetic demo data: every page says so

    @property
    def name(self) -> str:
        """The short name (topbar, tab titles): the short title, else the title."""
        return self.short_title or self.title

    @property
    def doi_url(self) -> str:
        return f"https://doi.org/{self.doi}" if self.doi else ""

    @property
    def paper_link(self) -> str:
        """Where "Read the paper" goes: the paper URL, else its DOI; "" when neither is set."""
        return self.paper_url or self.doi_url

    @property
    def citable(self) -> bool:
        """Whether there is anything to cite (CITATION.cff / BibTeX are offered only then)."""
        return bool(self.citation or self.doi)

    def to_json(self) -> str:
        doc = asdict(self)
        doc["data_links"] = [list(pair) for pair in self.data_links]
        return json.dumps(doc, indent=1, ensure_ascii=False, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, data: bytes) -> Identity:
        """Parse a version's identity file (`ValueError` when it is malformed: the reader turns
        that into a `StoreError` naming the file)."""
        doc = json.loads(data.decode("utf-8"))
        if not isinstance(doc, dict) or not isinstance(doc.get("title"), str):
            raise ValueError(f"{IDENTITY} is not an identity object")
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {k: v for k, v in doc.items() if k in known}
        links = values.pop("data_links", [])
        if not isinstance(links, list) or not all(
            isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str) for x in pair)
            for pair in links
        ):
            raise ValueError("data_links is not a list of [label, URL] pairs")
        for key, value in values.items():
            if not isinstance(value, bool if key == "demo" else str):
                raise ValueError(f"{key} is a {type(value).__name__}")
        return cls(data_links=tuple((label, url) for label, url in links), **values)


def normalise_doi(value: str, where: str) -> str:
    """A DOI as `10.…/…` whether written bare, as `doi:…` / `DOI: …` or as a doi.org link."""
    text = value.strip()
    for prefix in _DOI_PREFIXES:
        if text.lower().startswith(prefix):
            text = text[len(prefix) :].lstrip()  # "DOI: 10.…", as journals print it
            break
    if text and not DOI.match(text):
        raise ConfigError(
            f"{where}: doi = {value!r} is not a DOI",
            hint='write it as "10.1234/abcd" (or its https://doi.org/ link)',
        )
    return text


def checked_url(value: str, key: str, where: str) -> str:
    """A link the pages may show: http(s) only (never `javascript:` or a bare path)."""
    text = value.strip()
    if text and not re.match(r"^https?://[^\s/]+", text):
        raise ConfigError(
            f"{where}: {key} = {value!r} is not an http(s) URL",
            hint=f"set {key} to a full address such as https://example.org/…",
        )
    return text


def parse_data_links(value: str, where: str) -> tuple[tuple[str, str], ...]:
    """`"GEO GSE1=https://…; Code=https://…"` → ((label, URL), …): `label=URL` pairs joined
    by `;` (the label is everything before the first `=`)."""
    pairs = []
    for item in value.split(";"):
        if not item.strip():
            continue
        label, sep, url = item.partition("=")
        if not sep or not label.strip():
            raise ConfigError(
                f"{where}: data_links entry {item.strip()!r} is not label=URL",
                hint='write data_links = "GEO GSE12345=https://…; Code=https://…"',
            )
        pairs.append((label.strip(), checked_url(url, "data_links", where)))
    return tuple(pairs)
