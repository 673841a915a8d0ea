"""Make a server page's URLs relative, so the exported page works under any path prefix.

The server's pages name everything by absolute path (`/static/style.css?v=…`, `/circos`,
`/api/picture/…`). A static site may be served at `/`, at `/repo/` (GitHub Pages) or from an
unpacked archive, so every such URL becomes a path relative to the page's own file
(`../static/style.0123abcd.css`). The tags are found by Python's HTML parser (never inside a
script or a comment); only the value of a URL attribute is replaced, so the page is otherwise
the server's, byte for byte. A URL the caller does not map (another site, a fragment, mailto:)
stays as it is; `absolute_urls` finds any URL of the site left behind, which the export refuses.
"""

from __future__ import annotations

import html
import json
import posixpath
import re
from collections.abc import Callable
from html.parser import HTMLParser

URL_ATTRIBUTES = ("href", "src", "srcset", "action")
_ATTRIBUTE = re.compile(r'(\s(?:href|src|srcset|action)=")([^"]*)(")', re.IGNORECASE)
PAGE_DATA = re.compile(r'(<script type="application/json" id="page-data">)(.*?)(</script>)', re.S)

# A server URL (path and query) → the file of the static site it becomes (a path from the
# site's root), or None to keep the URL as it is.
Resolver = Callable[[str], str | None]


class _StartTags(HTMLParser):
    """The start tags of a document: (offset, raw text, tag, attributes)."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        # where each line starts (the parser counts lines by "\n" alone)
        self.lines = [0] + [m.end() for m in re.finditer("\n", text)]
        self.tags: list[tuple[int, str, str, list[tuple[str, str | None]]]] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line, column = self.getpos()
        self.tags.append(
            (self.lines[line - 1] + column, self.get_starttag_text() or "", tag, attrs)
        )

    handle_startendtag = handle_starttag


def relative(target: str, page: str) -> str:
    """The path of the site file `target` from the site file `page` (both from the root)."""
    path, sep, rest = target.partition("?")
    rel = posixpath.relpath(path, posixpath.dirname(page) or ".")
    return rel + sep + rest


def _new_value(value: str, attribute: str, page: str, resolve: Resolver) -> str:
    """An attribute's new (unescaped) value; srcset lists candidates `URL [descriptor]`."""
    if attribute.lower() != "srcset":
        target = resolve(value)
        return value if target is None else relative(target, page)
    candidates = []
    for candidate in value.split(","):
        url, space, descriptor = candidate.strip().partition(" ")
        target = resolve(url)
        candidates.append((url if target is None else relative(target, page)) + space + descriptor)
    return ", ".join(candidates)


def rewrite_urls(text: str, page: str, resolve: Resolver) -> str:
    """`text` (an HTML page that will be the site file `page`) with its URL attributes mapped."""
    out: list[str] = []
    at = 0
    for offset, raw, _tag, _attrs in _StartTags(text).tags:
        if not _ATTRIBUTE.search(raw):
            continue

        def replace(match: re.Match[str]) -> str:
            name = match.group(1).strip().split("=")[0]
            value = _new_value(html.unescape(match.group(2)), name, page, resolve)
            return match.group(1) + html.escape(value, quote=True) + match.group(3)

        if text[offset : offset + len(raw)] != raw:
            raise ValueError(f"the HTML parser placed a tag wrongly at offset {offset}")
        out.append(text[at:offset])
        out.append(_ATTRIBUTE.sub(replace, raw))
        at = offset + len(raw)
    out.append(text[at:])
    return "".join(out)


def rewrite_page_data(text: str, page: str, resolve: Resolver) -> str:
    """The figure page's data block (`#page-data`) with its plotly.js URL mapped."""
    match = PAGE_DATA.search(text)
    if match is None:
        return text
    data = json.loads(match.group(2))
    url = data.get("plotly")
    target = resolve(url) if isinstance(url, str) else None
    if target is None:
        return text
    old, new = json.dumps(url), json.dumps(relative(target, page))
    if match.group(2).count(old) != 1:
        raise ValueError(f"the page data names {url!r} more than once or escaped")
    block = match.group(2).replace(old, new)
    return text[: match.start(2)] + block + text[match.end(2) :]


def insert_meta(text: str, metas: dict[str, str]) -> str:
    """`<meta name=… content=…>` elements added at the end of the page's head."""
    tags = "".join(
        f'<meta name="{html.escape(name)}" content="{html.escape(content)}">\n'
        for name, content in metas.items()
    )
    head_end = text.find("</head>")
    if head_end < 0:
        raise ValueError("the page has no </head>")
    return text[:head_end] + tags + text[head_end:]


def absolute_urls(text: str) -> list[str]:
    """Every URL attribute (and the page data's plotly URL) that names this site by an absolute
    path or a network path (`/x`, `//host/x`): what a page served under a prefix cannot follow."""
    found = []
    for _offset, _raw, _tag, attrs in _StartTags(text).tags:
        for name, value in attrs:
            if name in URL_ATTRIBUTES and value:
                urls = [c.strip().split(" ")[0] for c in value.split(",")]
                if name != "srcset":
                    urls = [value]
                found += [u for u in urls if u.startswith("/")]
    match = PAGE_DATA.search(text)
    if match is not None:
        url = json.loads(match.group(2)).get("plotly")
        if isinstance(url, str) and url.startswith("/"):
            found.append(url)
    return found
