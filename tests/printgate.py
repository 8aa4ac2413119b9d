"""The print gate's checks, over one built PDF: what a printer cuts, what a reader trips on.

Read from what poppler extracts (words with their boxes, see pdftext.py), as a person
looks at the printed page:

- no text within 0.25 in of a page edge (office printers cut 0.17-0.25 in);
- the clinic's phone number never split across lines;
- no last page that holds only the running furniture and a box (the contact box), which
  is a sheet of paper for two lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .pdftext import BIDI_AND_JOINERS, Word, pdf_text

EDGE = 18.0  # points: 0.25 in


@dataclass(frozen=True)
class Page:
    width: float
    height: float
    words: tuple[Word, ...]


def pages(path: Path) -> list[Page]:
    out = []
    for number, (width, height, body) in enumerate(re.findall(
            r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', pdf_text(path, "-bbox"), re.S)):
        words = tuple(Word(number, float(a), float(b), float(c), float(d), text.translate(BIDI_AND_JOINERS))
                      for a, b, c, d, text in re.findall(
                          r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>',
                          body))
        out.append(Page(float(width), float(height), words))
    return out


def near_edges(doc: list[Page], edge: float = EDGE) -> list[str]:
    """Words closer than `edge` points to a page edge."""
    return [f"page {w.page + 1}: {w.text!r} {min(w.x_min, w.y_min, p.width - w.x_max, p.height - w.y_max) / 72:.2f} in "
            f"from the edge" for p in doc for w in p.words
            if min(w.x_min, w.y_min, p.width - w.x_max, p.height - w.y_max) < edge]


def same_line(a: Word, b: Word) -> bool:
    return a.page == b.page and abs((a.y_min + a.y_max) / 2 - (b.y_min + b.y_max) / 2) < 0.5 * (a.y_max - a.y_min)


def split_phones(doc: list[Page], phone: str) -> list[str]:
    """Each place a multi-word phone number ("(555) 010-0142") starts on one line and ends on another."""
    first, *rest = phone.split()
    if not rest:
        return []
    problems = []
    for page in doc:
        for index, word in enumerate(page.words):
            if word.text.strip(".,:;،") != first:
                continue
            following = page.words[index + 1: index + 1 + len(rest)]
            # In right-to-left lines poppler may list the words of a line in another order: any
            # word of the number's last part on the same line will do.
            if not any(w.text.startswith(rest[-1]) and same_line(word, w) for w in page.words):
                if [w.text.rstrip(".,:;،") for w in following] == rest:
                    problems.append(f"page {page.words[0].page + 1}: {phone!r} split across lines")
    return problems


def body_lines(page: Page, top: float, bottom: float) -> list[float]:
    """The distinct line positions of the words between the running header and footer."""
    ys = sorted({round((w.y_min + w.y_max) / 2) for w in page.words if top < w.y_min and w.y_max < page.height - bottom})
    lines: list[float] = []
    for y in ys:
        if not lines or y - lines[-1] > 4:
            lines.append(y)
    return lines


def short_last_page(doc: list[Page], top: float = 0.6 * 72, bottom: float = 0.65 * 72, least: int = 3) -> list[str]:
    """A last page of a multi-page document with fewer than `least` lines of body text."""
    if len(doc) < 2:
        return []
    lines = body_lines(doc[-1], top, bottom)
    if not lines:
        return []  # a blank page (a packet's padding) is meant to be blank
    return [f"last page (page {len(doc)}) holds only {len(lines)} line(s) of text"] if len(lines) < least else []
