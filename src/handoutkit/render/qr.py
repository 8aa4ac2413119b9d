"""QR codes on the PDFs: each handout links to its page in the web edition, in the same language.

Only when `web.base_url` is set in handouts/clinic.yaml (the address where
build/web/ is published): an unset address prints no code, since a code that
leads nowhere would be worse than none. The code is drawn by segno as inline
SVG (vector, so it prints sharp; no network, no image file), with a quiet
zone of 4 modules so phone cameras and zbar find it next to text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import segno
from markupsafe import Markup

QUIET_ZONE = 4  # modules of white around the code, as ISO/IEC 18004 asks


@dataclass(frozen=True)
class QrCode:
    url: str  # what the code encodes: base_url + "<locale>/<id>.html"
    printed: str  # the URL as printed under the code (without "https://")
    svg: Markup


def qr_code(url: str, label: str = "") -> QrCode:
    """The code for `url`; `label` ("Read it online:", in the document's language) and the
    address it opens are its alternative text (the PDF's Figure /Alt, from the SVG's <title>)."""
    code = segno.make(url, error="m", micro=False)
    # Scaled by CSS (.qr svg): a viewBox and no fixed size.
    svg = code.svg_inline(scale=1, border=QUIET_ZONE, omitsize=True, svgclass="qr-code", lineclass=None,
                          dark="#000", light="#fff")
    printed = url.removeprefix("https://")
    alt = f"{label} {printed}" if label else printed
    svg = re.sub(r"(<svg [^>]*>)", lambda m: m[1].replace("<svg ", '<svg role="img" focusable="false" ', 1)
                 + str(Markup("<title>{}</title>").format(alt)), svg, count=1)
    return QrCode(url, printed, Markup(svg))
