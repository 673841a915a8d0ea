"""Measure the Circos label font in Chromium and write its metrics table.

    python scripts/measure_label_font.py [--chromium /usr/bin/chromium]

writes `ctsite/figures/data/label_font.json`: the advance width of every printable ASCII
character and of the few non-ASCII characters gene and cell-type names use, in the regular and
the bold weight of `FAMILY`, as measured by Chromium's own text layout (an SVG <text>'s
`getComputedTextLength`, the width the browser draws) at 100 px, plus the height of a text's
box (`getBBox().height`) and where its baseline sits in that box. `ctsite.figures.text_metrics`
reads the table; the Circos label layout measures every label with it, and the figures name
the same font, so what the layout computes is what the browser draws.

The font is DejaVu Sans (Debian's and most Linux desktops' default sans-serif; the browser
tests' Chromium draws with it). Where it is missing the browser falls back to a narrower
sans-serif (Verdana, then the default): a label then ends a little short of its reserved box,
never beyond it, and its height (what separates neighbours on the circle) is the font size.
Run it again after changing `FAMILY` or the character set, and commit the table.
"""

from __future__ import annotations

import argparse
import json
import string
from pathlib import Path

from playwright.sync_api import sync_playwright

FAMILY = "DejaVu Sans"
SIZE = 100.0
EXTRA = "αβγδκλµ–—·±→←×é"
OUT = Path(__file__).resolve().parents[1] / "ctsite" / "figures" / "data" / "label_font.json"

MEASURE = """([family, size, chars]) => {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("width", "2000"); svg.setAttribute("height", "400");
  document.body.appendChild(svg);
  const text = document.createElementNS(ns, "text");
  text.setAttribute("x", "0"); text.setAttribute("y", "200");
  text.setAttribute("font-family", family); text.setAttribute("font-size", String(size));
  svg.appendChild(text);
  const out = {};
  for (const weight of ["normal", "bold"]) {
    text.setAttribute("font-weight", weight);
    const widths = {};
    for (const ch of chars) { text.textContent = ch; widths[ch] = text.getComputedTextLength(); }
    text.textContent = "Hg";
    const box = text.getBBox();
    out[weight] = {widths, height: box.height, baseline: 200 - box.y};
  }
  return out;
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    chars = [c for c in string.printable if c.isprintable()] + list(EXTRA)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
        page = browser.new_page()
        page.set_content("<!doctype html><html><body></body></html>")
        measured = page.evaluate(MEASURE, [FAMILY, SIZE, chars])
        fonts = page.evaluate("() => document.fonts.check('16px \"" + FAMILY + "\"')")
        browser.close()
    if not fonts:
        raise SystemExit(f"Chromium has no {FAMILY!r} font installed: install it and run again")
    table = {
        "family": FAMILY,
        "size": SIZE,
        "measured_with": "Chromium SVG text: getComputedTextLength (advance), getBBox (box)",
        "regular": {k: round(v, 3) for k, v in measured["normal"]["widths"].items()},
        "bold": {k: round(v, 3) for k, v in measured["bold"]["widths"].items()},
        "height": round(measured["normal"]["height"], 3),
        "baseline": round(measured["normal"]["baseline"], 3),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    tmp = OUT.with_suffix(".tmp")
    tmp.write_text(json.dumps(table, indent=1, ensure_ascii=False, sort_keys=True) + "\n")
    tmp.replace(OUT)
    print(f"wrote {OUT} ({len(chars)} characters, {FAMILY})")


if __name__ == "__main__":
    main()
