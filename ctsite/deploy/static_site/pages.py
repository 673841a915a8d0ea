"""The pages of the static site and everything they load, taken from the website itself.

Each page (home, one per figure, the 404 page) is the server's own HTML (`SiteSource`) with its
URLs made relative (`rewrite`) and a `<meta name="ctsite-data">` naming the data index, which
tells figure.js the page is static (its figures then come from the browser engine, named by
`<meta name="ctsite-engine">` when the engine was built). What the pages load is fetched from
the same website and written as files:

    index.html, <figure>/index.html, 404.html   the pages (a folder each: `circos/index.html`)
    static/<name>.<hash><ext>                    style sheet, scripts, icons, plotly.js, engine
    pictures/<figure>.<width class>.<hash>.svg   the default view's static pictures
    downloads/<file name the server gives>       the default view's CSV (its `url` line is the
                                                 page's path from the site's root: the site's
                                                 address is not known here)
    CITATION.cff, citation.bib                   the citation downloads (when there is one)

Scripts, styles and pictures are named by their content, so a host may cache them for ever.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from ctsite.deploy.static_site import rewrite
from ctsite.deploy.static_site.source import SiteSource
from ctsite.errors import CtsiteError
from ctsite.figures import FIGURES

HOME = "index.html"
NOT_FOUND = "404.html"
NOT_FOUND_URL = "/.ctsite-export-site/no-such-page"  # a path no route of the site answers
CITATIONS = ("/CITATION.cff", "/citation.bib")
DATA_META = "ctsite-data"
ENGINE_META = "ctsite-engine"
ENGINE_FILE = "static/vendor/ctsite-engine.js"
HASH_DIGITS = 16


def page_files() -> dict[str, str]:
    """The site's page URLs → their files in the static site."""
    return {"/": HOME} | {f"/{name}": f"{name}/index.html" for name in FIGURES}


def hashed(path: str, body: bytes) -> str:
    """`static/style.css` → `static/style.<hash of body>.css`."""
    folder, name = posixpath.split(path)
    stem, dot, suffix = name.rpartition(".")
    digest = hashlib.sha256(body).hexdigest()[:HASH_DIGITS]
    return posixpath.join(folder, f"{stem}.{digest}.{suffix}" if dot else f"{name}.{digest}")


@dataclass
class SiteWriter:
    """Writes pages and their files into `root`, each file once (`written`: file → bytes)."""

    source: SiteSource
    root: Path
    data_index: str
    pages: dict[str, str] = field(default_factory=page_files)
    files: dict[str, str] = field(default_factory=dict)  # server URL → site file
    written: dict[str, int] = field(default_factory=dict)
    engine: str | None = None

    def write(self, rel: str, body: bytes) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        self.written[rel] = len(body)

    def add_engine(self) -> str | None:
        """Copy the engine bundle (content-named) if it was built; its file, else None."""
        bundle = self.source.engine_bundle()
        if bundle is None:
            return None
        body = bundle.read_bytes()
        self.engine = hashed(ENGINE_FILE, body)
        self.write(self.engine, body)
        return self.engine

    def fetch(self, url: str, page: str, expect: int = 200) -> bytes:
        answer = self.source.get(url)
        if answer.status != expect:
            raise CtsiteError(
                f"the site answered {answer.status} for {url} (linked from {page}): "
                + answer.body.decode("utf-8", "replace")[:200].strip(),
                hint="check the store with `ctsite doctor`, or recompile it",
            )
        return answer.body

    def resolve(self, url: str, page: str) -> str | None:
        """The site file for a URL of the site (fetched and written the first time)."""
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or not parts.path.startswith("/"):
            return None  # another site, mailto:, a fragment, already relative
        if parts.path in self.pages:
            return self.pages[parts.path]
        if url not in self.files:
            self.files[url] = self._file_for(url, parts.path, parts.query, page)
        return self.files[url]

    def _file_for(self, url: str, path: str, query: str, page: str) -> str:
        if path in CITATIONS:
            rel = path.lstrip("/")
            self.write(rel, self.fetch(url, page))
            return rel
        if path.startswith("/static/"):
            body = self.fetch(url, page)
            rel = hashed(path.lstrip("/"), body)
        elif path.startswith("/api/picture/") and path.endswith(".svg"):
            body = self.fetch(url, page)
            figure = posixpath.basename(path)[: -len(".svg")]
            size = parse_qs(query).get("size", ["default"])[-1]
            rel = hashed(f"pictures/{figure}.{re.sub(r'[^a-z0-9-]', '', size)}.svg", body)
        elif path.startswith("/api/data/") and path.endswith(".csv"):
            answer = self.source.get(url)
            if answer.status != 200 or not answer.filename:
                self.fetch(url, page)  # (raises with the site's message)
            rel = f"downloads/{posixpath.basename(answer.filename)}"
            body = self.site_relative_url_line(answer.body)
        else:
            raise CtsiteError(
                f"the page {page} links to {url}, which a static site cannot hold",
                hint="this is a bug of ctsite export-site: please report it",
            )
        self.write(rel, body)
        return rel

    def site_relative_url_line(self, csv: bytes) -> bytes:
        """The CSV with its provenance `# url:` line naming the page's file from the site's
        root (`circos/index.html?…`) instead of the address the snapshot was taken at."""
        head, newline, rest = csv.partition(b"\n# url: ")
        if not newline:
            return csv
        line, end, body = rest.partition(b"\n")
        parts = urlsplit(line.decode("utf-8"))
        page = self.pages.get(parts.path, parts.path.lstrip("/"))
        new = page + (f"?{parts.query}" if parts.query else "")
        return head + newline + new.encode("utf-8") + end + body

    def page(self, url: str, rel: str, expect: int = 200) -> None:
        """Write the page `url` as the site file `rel`, with everything it loads."""
        text = self.fetch(url, rel, expect).decode("utf-8")

        def resolve(link: str) -> str | None:
            return self.resolve(link, rel)

        text = rewrite.rewrite_urls(text, rel, resolve)
        text = rewrite.rewrite_page_data(text, rel, resolve)
        metas = {DATA_META: rewrite.relative(self.data_index, rel)}
        if self.engine is not None and url in self.pages and url != "/":
            metas[ENGINE_META] = rewrite.relative(self.engine, rel)
        text = rewrite.insert_meta(text, metas)
        left = rewrite.absolute_urls(text)
        if left:
            raise CtsiteError(
                f"the page {rel} still names {left[0]} by its absolute path",
                hint="this is a bug of ctsite export-site: please report it",
            )
        self.write(rel, text.encode("utf-8"))

    def write_all(self) -> None:
        """Every page, the 404 page, and what they load."""
        self.add_engine()
        for url, rel in self.pages.items():
            self.page(url, rel)
        self.page(NOT_FOUND_URL, NOT_FOUND, expect=404)
