"""Rendering, verified on paper: does the first page have ink where its text is?

A damaged font (or a subset cut from one) still loads: the PDF made with it has
a complete text layer, so every text check passes, while the glyphs it draws
are blank. This module looks at a page as a printer would: poppler's
`pdftotext -bbox` says where each word is, `pdftoppm` rasterises the page, and
each word's box must hold ink across most of its width (a damaged font may still
draw a few glyphs: "Caminar" printed as "C"), measured against the box's own
background so that light text on a dark band counts too.
The front desk checks its warm-up renders this way, and the build its first
PDF of each locale.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

from handoutkit.errors import HandoutError

DPI = 50  # enough for a 9 pt word to cover several pixel rows; a page takes ~20 ms
MIN_INKED = 0.9  # a few words may sit on a picture, or be a digit narrower than a pixel column
MIN_COVERAGE = 0.5  # a word has ink when this share of its pixel columns does (measured: 0.79 on average)
CONTRAST = 64  # grey levels between a word's background and its ink
WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>')


@dataclass(frozen=True)
class Ink:
    words: int  # words with a visible character on the page
    inked: int  # of those, the words whose box holds ink

    @property
    def ok(self) -> bool:
        return self.words > 0 and self.inked >= MIN_INKED * self.words


def page_ink(pdf: bytes, page: int = 1) -> Ink:
    """Count the words of one page whose box on the rasterised page holds ink."""
    from PIL import Image

    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(pdf)
        handle.flush()
        pages = ["-f", str(page), "-l", str(page)]
        boxes = subprocess.run(["pdftotext", *pages, "-bbox", handle.name, "-"], capture_output=True,
                               check=True, timeout=60).stdout.decode("utf-8", "replace")
        raster = subprocess.run(["pdftoppm", *pages, "-r", str(DPI), "-gray", handle.name],
                                capture_output=True, check=True, timeout=60).stdout
    image = Image.open(io.BytesIO(raster)).convert("L")
    scale = DPI / 72
    words = inked = 0
    for x0, y0, x1, y1, text in WORD.findall(boxes):
        if not any(c.isalnum() for c in text):
            continue
        box = (int(float(x0) * scale), int(float(y0) * scale),
               max(int(float(x1) * scale + 0.999), int(float(x0) * scale) + 1),
               max(int(float(y1) * scale + 0.999), int(float(y0) * scale) + 1))
        words += 1
        inked += column_coverage(image.crop(box)) >= MIN_COVERAGE
    return Ink(words, inked)


def column_coverage(word) -> float:
    """The share of a word box's pixel columns that differ from its background (its commonest grey)."""
    histogram = word.histogram()
    background = histogram.index(max(histogram))
    width, height = word.size
    pixels = word.load()
    columns = sum(any(abs(pixels[x, y] - background) >= CONTRAST for y in range(height)) for x in range(width))
    return columns / width


def ink_problem(pdf: bytes, what: str) -> str | None:
    """Why the first page of `pdf` would print blank text, or None when its words have ink."""
    try:
        ink = page_ink(pdf)
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        return f"{what}: its first page could not be rasterised to check it ({type(exc).__name__}: {exc})"
    if ink.ok:
        return None
    return (f"{what}: {ink.words - ink.inked} of the {ink.words} words on its first page print no ink (the text "
            "layer is there, the glyphs are blank): a font file is damaged")


def require_poppler() -> None:
    """pdftoppm and pdftotext (poppler-utils) are needed to check renders."""
    for tool in ("pdftoppm", "pdftotext"):
        if shutil.which(tool) is None:
            raise HandoutError(f"{tool} is missing: install poppler-utils (apt-get install poppler-utils) "
                               "to check that renders have ink")
