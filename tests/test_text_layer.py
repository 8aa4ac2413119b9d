"""The PDF's text layer reads as the translation: every script, every handout, both editions.

What a screen reader, a search or a copy-and-paste gets is what `pdftotext`
(poppler) extracts. For every published locale and every handout, the
whitespace-normalised text of the PDF must contain the exact msgstr of the
title and of every warning sign (each item of each callout), and the clinic's
phone number in reading order, "(555) 010-0142", also inside Arabic and
Persian text. This is what fails without the tag repair (pdftags.py):
Nepali vowel signs out of order, ")555( 010-0142" in Arabic, Persian
zero-width non-joiners lost.
"""

from __future__ import annotations

import re

import pytest

from handoutkit.content.handouts import Handout, load_content
from handoutkit.content.settings import Project
from handoutkit.outputs.build import pdf_path
from handoutkit.outputs.editions import EDITIONS
from handoutkit.translation.catalogs import load_catalog

from .conftest import REPO
from .pdftext import normalise, pdf_text

LOCALES = Project(REPO).settings.locales
pytestmark = pytest.mark.slow


def expected_texts(project: Project, locale: str, handout: Handout) -> list[str]:
    """The title and every warning sign of a handout, as the locale's catalog translates them."""
    sources = [handout.title] + [item for section in handout.sections for block in section.blocks
                                 if block.kind == "callout" for item in block.items]
    if locale == project.settings.source_locale:
        texts = [text.value for text in sources]
    else:
        catalog = load_catalog(project, locale)
        texts = [catalog.get(text.value, context=text.context).string for text in sources]
    # **bold** markers are not printed; placeholders ({fever_threshold}) print the clinic's values
    values = project.settings.clinic.placeholders()
    texts = [re.sub(r"\{(\w+)\}", lambda m: values.get(m[1], m[0]), text) for text in texts]
    return [text.replace("**", "") for text in texts]


def test_the_library_has_warning_signs_to_check(built_library: Project) -> None:
    handouts = load_content(built_library.handouts_dir, built_library.root).handouts
    assert len(handouts) >= 10
    assert all(len(expected_texts(built_library, "en", h)) >= 3 for h in handouts)


@pytest.mark.parametrize("locale", LOCALES)
def test_title_warning_signs_and_phone_extract_exactly(built_library: Project, locale: str) -> None:
    phone = built_library.settings.clinic.phone
    missing = []
    for handout in load_content(built_library.handouts_dir, built_library.root).handouts:
        for edition in (name for name, e in EDITIONS.items() if e.suffix == ".pdf"):  # the PDF editions
            text = normalise(pdf_text(pdf_path(built_library, locale, handout.id, edition)))
            for wanted in [*expected_texts(built_library, locale, handout), phone]:
                if normalise(wanted) not in text:
                    missing.append(f"{handout.id} ({edition}): {wanted!r}")
    assert not missing, "not in the extracted text:\n" + "\n".join(missing)


@pytest.mark.parametrize("locale", ["ar", "fa"])
def test_the_phone_number_is_not_mirrored_in_right_to_left_text(built_library: Project, locale: str) -> None:
    text = normalise(pdf_text(pdf_path(built_library, locale, "acdf")))
    assert "(555) 010-0142" in text
    assert ")555(" not in text


def test_nepali_title_extracts_in_logical_order(built_library: Project) -> None:
    text = normalise(pdf_text(pdf_path(built_library, "ne", "acdf")))
    assert "एन्टेरियर सर्भाइकल" in text
    assert "एन्टे रयर" not in text  # the pre-base vowel sign out of order, as WeasyPrint 70 writes it
