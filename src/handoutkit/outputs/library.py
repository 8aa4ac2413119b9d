"""What outputs are made from and what making one gives: shared by the edition and library targets."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from handoutkit.content.handouts import Content
from handoutkit.content.settings import Project
from handoutkit.render.renderer import PdfWriter
from handoutkit.translation.prepared import PreparedLocale


@dataclass(frozen=True)
class Made:
    html: str  # the HTML the output was made from (or is)
    data: bytes | None  # the product's bytes when it is not the HTML itself (the PDF); None for an HTML edition
    pages: int
    note: str = ""  # something the build says about it (pictures left out to keep the page budget)
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


@dataclass(frozen=True)
class LibraryTarget:
    """An output made once from the whole library (the language sheet, the catalog page, the web index)."""

    key: str  # in the manifest
    url: str  # where it is written, relative to build/ (and its path on the front-desk server)
    inputs: Callable[[Library], str]
    write: Callable[[Library], tuple[int, str]]  # -> (pages, a progress line)
    whole_library: bool = True  # only a build of every locale and handout writes it
    # A PDF target's HTML, made from the locales alone (never from `Library.pdfs`): the build
    # renders it in its pool beside the editions instead of after them, and `write` gets it
    # through `Library.pdf`.
    html: Callable[[Library], str] | None = None

    def path(self, project: Project) -> Path:
        return project.build_dir / self.url

    def built_url(self, project: Project) -> str | None:
        """The URL to link to, when the file exists."""
        return self.url if self.path(project).exists() else None


def inputs_hash(*parts: object) -> str:
    return hashlib.sha256("\0".join(map(str, parts)).encode()).hexdigest()
