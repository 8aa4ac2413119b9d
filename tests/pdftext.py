"""Helpers for tests that read built PDFs: text as poppler extracts it, words with their boxes."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

# Direction marks poppler writes around right-to-left and left-to-right runs (RLE, LRE, PDF),
# the marks and isolates of our own /ActualText and HTML, and word joiners: formatting, not text.
BIDI_AND_JOINERS = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2060"))
CJK = "\u3000-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef"


def normalise(text: str) -> str:
    """Whitespace collapsed to single spaces; a line break between two CJK characters (which
    have no spaces between words) removed; direction marks and word joiners dropped."""
    text = text.translate(BIDI_AND_JOINERS)
    text = re.sub(rf"(?<=[{CJK}])[ \t]*\n\s*(?=[{CJK}])", "", text)
    return " ".join(text.split())


def pdf_text(path: Path, *args: str) -> str:
    return subprocess.run(["pdftotext", *args, str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


@dataclass(frozen=True)
class Word:
    page: int
    x_min: float
    y_min: float
    x_max: float
    y_max: float
    text: str


def words(path: Path) -> list[Word]:
    """Every word poppler finds, with its box in points from the top-left corner of its page."""
    found: list[Word] = []
    for page, body in enumerate(re.findall(r"<page [^>]*>(.*?)</page>", pdf_text(path, "-bbox"), re.S)):
        for x0, y0, x1, y1, text in re.findall(
                r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', body):
            found.append(Word(page, float(x0), float(y0), float(x1), float(y1), text))
    return found
