"""Accessible PDFs: language, structure, title, and the large-print edition.

A copy of the repository builds the short warning-signs handout in every
published locale. Each PDF declares the locale's BCP 47 language tag as its
/Lang, is marked (/MarkInfo /Marked true) with a structure tree holding one
H1 and an H2 per section, shows its translated title (/Title, displayed by the
viewer), and the large-print edition uses bigger type and more pages.
"""

from __future__ import annotations

import re
import statistics
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from handoutkit.content.handouts import load_content
from handoutkit.content.settings import Project
from handoutkit.outputs.build import build, html_path, pdf_path
from handoutkit.translation.catalogs import load_catalog

from .conftest import REPO

pytestmark = pytest.mark.slow  # a build of one handout in every locale

HANDOUT = "warning-signs"
LOCALES = Project(REPO).settings.locales
BCP47 = {"zh_Hans": "zh-Hans", "zh_Hant": "zh-Hant"}  # every other locale's tag is its name


@pytest.fixture(scope="module")
def built(built_repo: Project) -> Project:
    """The shared repository build, plus the large-print edition of es."""
    project = built_repo
    large = build(project, locales=("es",), handout_ids=(HANDOUT,), editions=("large",), workers=1,
                  progress=lambda line: None)
    assert large.ok, [str(p) for p in large.problems]
    return project


def structure_types(root) -> list[str]:
    """The structure element types (/S) of a PDF's structure tree, in document order, roles mapped."""
    tree = root["/StructTreeRoot"].get_object()
    role_map = tree.get("/RoleMap", {})
    found: list[str] = []

    def walk(node) -> None:
        node = node.get_object() if hasattr(node, "get_object") else node
        if isinstance(node, list):
            for kid in node:
                walk(kid)
        elif hasattr(node, "get") and "/S" in node:
            kind = str(node["/S"])
            found.append(str(role_map.get(kind, kind)))
            if "/K" in node:
                walk(node["/K"])

    walk(tree.get("/K"))
    return found


def translated_title(project: Project, locale: str) -> str:
    title = load_content(project.handouts_dir, project.root).get(HANDOUT).title.value
    if locale == project.settings.source_locale:
        return title
    return load_catalog(project, locale).get(title).string


def test_every_published_locale_was_built(built: Project) -> None:
    assert len(LOCALES) >= 13
    for locale in LOCALES:
        assert pdf_path(built, locale, HANDOUT).is_file(), locale


@pytest.mark.parametrize("locale", LOCALES)
def test_pdf_language_structure_and_title(built: Project, locale: str) -> None:
    from pypdf import PdfReader

    reader = PdfReader(pdf_path(built, locale, HANDOUT))
    root = reader.trailer["/Root"]
    assert root.get("/Lang") == BCP47.get(locale, locale), f"/Lang is {root.get('/Lang')!r}"
    assert root["/MarkInfo"]["/Marked"] == True
    assert "/StructTreeRoot" in root

    types = structure_types(root)
    counts = Counter(types)
    sections = load_content(built.handouts_dir, built.root).get(HANDOUT).sections
    assert counts["/H1"] == 1, counts
    assert counts["/H2"] == len(sections), counts
    headings = [t for t in types if re.fullmatch(r"/H\d", t)]
    assert headings[0] == "/H1", f"the first heading is {headings[0]}, not the title"
    assert "/Document" in types

    assert reader.metadata.title == translated_title(built, locale)
    assert root["/ViewerPreferences"]["/DisplayDocTitle"] == True


def test_the_html_declares_the_language_and_direction(built: Project) -> None:
    for locale in LOCALES:
        html = html_path(built, locale, HANDOUT).read_text("utf-8")
        direction = "rtl" if locale in ("ar", "fa") else "ltr"
        assert re.search(rf'<html lang="{BCP47.get(locale, locale)}" dir="{direction}"[ >]', html), locale


# ---------------------------------------------------------------- large print


def word_heights(path: Path) -> dict[str, float]:
    """Height (points) of each word that occurs once in the PDF, from pdftotext -bbox."""
    bbox = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    words = re.findall(r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]+)</word>', bbox)
    counts = Counter(text for _, _, text in words)
    return {text: float(y1) - float(y0) for y0, y1, text in words if counts[text] == 1}


def type_scale(standard: Path, large: Path) -> float:
    """How much bigger the same words are printed in the large edition (median over the words of both)."""
    small, big = word_heights(standard), word_heights(large)
    common = small.keys() & big.keys()
    assert len(common) > 20, sorted(common)
    return statistics.median(big[word] / small[word] for word in common)


def test_large_print_is_marked_bigger_and_longer(built: Project) -> None:
    from pypdf import PdfReader

    standard, large = pdf_path(built, "es", HANDOUT), pdf_path(built, "es", HANDOUT, "large")
    html = html_path(built, "es", HANDOUT, "large").read_text("utf-8")
    assert re.search(r'<html [^>]*class="[^"]*\blarge\b', html), html[:300]
    assert 'class="large"' not in html_path(built, "es", HANDOUT).read_text("utf-8")
    assert len(PdfReader(large).pages) > len(PdfReader(standard).pages)
    # 18 pt against the standard edition's 12 pt body: the same words at least a third bigger.
    assert type_scale(standard, large) >= 1.35


def test_large_print_keeps_the_accessibility_of_the_standard_edition(built: Project) -> None:
    from pypdf import PdfReader

    reader = PdfReader(pdf_path(built, "es", HANDOUT, "large"))
    root = reader.trailer["/Root"]
    assert root.get("/Lang") == "es"
    counts = Counter(structure_types(root))
    assert counts["/H1"] == 1 and counts["/H2"] >= 1
    assert reader.metadata.title == translated_title(built, "es")
