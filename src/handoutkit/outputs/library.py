"""What outputs are made from and what making one gives: shared by the edition and library targets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from handoutkit.content.handouts import Content
from handoutkit.content.settings import Project
from handoutkit.render.renderer import PdfWriter
from handoutkit.translation.prepared import PreparedLocale


@dataclass(frozen=True)
class Made:
    html: str
    pdf: bytes | None  # None for an edition that writes HTML only (the web edition)
    pages: int
    note: str = ""  # something the build says about it (pictures left out to keep the page budget)


@dataclass(frozen=True)
class Library:
    """What the library targets are made from: the locales that are ready and what they render with."""

    project: Project
    content: Content
    ready: dict[str, PreparedLocale]
    stacks: dict[str, tuple[str, ...]]  # locale -> its font stack
    common: str  # manifest.common_inputs
    pdfs: tuple[str, ...]  # the manifest keys of every PDF that exists after this build
    approvals: tuple[str, ...]  # each handout's approval state today
    # HTML -> (PDF, pages): the build passes its render pool's, which already has the PDF of
    # each target with `html` under way; without one, a PdfWriter in this process.
    render_pdf: Callable[[str], tuple[bytes, int]] | None = None

    def pdf(self, html: str) -> tuple[bytes, int]:
        return (self.render_pdf or PdfWriter(self.project).pdf)(html)
