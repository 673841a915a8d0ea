"""The study's identity from the `[site]` settings: what a compile writes into the store.

The web app also uses it, for stores compiled before the identity travelled with the data.
Bad values (a blank title, a DOI that is none, a link that is not http(s)) are one `ConfigError`
line naming where they were set.
"""

from __future__ import annotations

from ctsite.config import Settings
from ctsite.errors import ConfigError
from ctsite.store.figure_defaults import FigureChoices
from ctsite.store.identity import Identity, checked_url, normalise_doi, parse_data_links


def site_identity(s: Settings) -> Identity:
    """The `[site]` identity settings of `s`, checked and normalised."""

    def where(key: str) -> str:
        return s.sources.get(key, "default")

    title = s.site_title.strip()
    if not title:  # the heading, the tab title, the Dataset's name, CITATION.cff's title
        raise ConfigError(
            f"{where('site_title')}: [site] title is empty",
            hint='set title = "…" in [site]: what the site calls the study',
        )
    return Identity(
        title=title,
        short_title=s.site_short_title.strip(),
        subtitle=s.site_subtitle.strip(),
        about=s.site_about.strip(),
        citation=s.site_citation.strip(),
        doi=normalise_doi(s.site_doi, where("site_doi")),
        paper_url=checked_url(s.site_paper_url, "paper_url", where("site_paper_url")),
        data_links=parse_data_links(s.site_data_links, where("site_data_links")),
        license=s.site_license.strip(),
        contact=s.site_contact.strip(),
        method_credit=s.site_method_credit.strip(),
        method_url=checked_url(s.site_method_url, "method_url", where("site_method_url")),
        demo=s.site_demo,
    )


def figure_choices(s: Settings) -> FigureChoices:
    """The `[figures]` settings of `s` (empty: chosen from the data at compile time)."""
    seeds = tuple(
        g.strip() for g in s.figures_effects_seeds.replace(";", ",").split(",") if g.strip()
    )
    return FigureChoices(
        effects_cell_type=s.figures_effects_cell_type.strip(),
        effects_seeds=seeds,
        pairwise_cell_type1=s.figures_pairwise_cell_type1.strip(),
        pairwise_cell_type2=s.figures_pairwise_cell_type2.strip(),
    )
