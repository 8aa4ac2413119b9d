"""The PDF's text layer reads as the translation: every script, every handout, both editions.

What a screen reader, a search or a copy-and-paste gets is what `pdftotext`
(poppler) extracts. For every published locale and every handout, the
whitespace-normalised text of the PDF must contain the exact msgstr of the
title and of every warning sign (each item of each callout), and the clinic's
phone number in reading order, "(555) 010-0142", also inside Arabic and
Persian text. This is what fails without the tag repair (pdftags.py):
Nepali vowel signs out of order, ")555( 010-0142" in Arabic, Persian
zero-width non-joiners lost.

Beyond those, every printed sentence of every handout must extract exactly
(issue 24), but for the misses listed in tests/data/text_layer_misses.tsv with
their reason: a sentence that the page's layout interrupts (a page break with
the running header and footer, a picture's labels beside the line), which
poppler extracts in the order it finds on the page.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from handoutkit.content.handouts import Handout, Text, handout_texts, load_content
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
    return printed(project, locale, sources)


def printed(project: Project, locale: str, sources: list[Text]) -> list[str]:
    """Texts as the locale's catalog translates them and the page prints them."""
    if locale == project.settings.source_locale:
        texts = [text.value for text in sources]
    else:
        catalog = load_catalog(project, locale)
        texts = [catalog.get(text.value, context=text.context).string for text in sources]
    # **bold** markers are not printed; placeholders ({fever_threshold}) print the clinic's values
    values = project.settings.clinic.placeholders()
    texts = [re.sub(r"\{(\w+)\}", lambda m: values.get(m[1], m[0]), text) for text in texts]
    return [text.replace("**", "") for text in texts]


# A sentence ends at a full stop, question or exclamation mark (Latin, Devanagari danda, Arabic
# question mark) before a space, or at a CJK full stop, question or exclamation mark.
SENTENCE_END = re.compile(r"(?<=[.!?\u0964\u061f])\s+|(?<=[\u3002\uff01\uff1f])")


def printed_sentences(project: Project, locale: str, handout: Handout) -> list[str]:
    """Every sentence of every text a handout prints (title, summary, key points, headings,
    paragraphs, list items, callouts), translated, each once."""
    sentences = (normalise(part) for text in printed(project, locale, list(handout_texts(handout)))
                 for part in SENTENCE_END.split(text))
    return list(dict.fromkeys(sentence for sentence in sentences if sentence))


def canonical(text: str) -> str:
    """NFC: the same text, whichever order the shaper put a letter's marks in (HarfBuzz draws a
    shadda before a kasra or a tanween, the catalogs hold them the other way round)."""
    return unicodedata.normalize("NFC", text)


KNOWN_MISSES = Path(__file__).parent / "data" / "text_layer_misses.tsv"


def known_misses() -> dict[tuple[str, str, str, str], str]:
    """(locale, handout, edition, sentence) -> why it does not extract whole."""
    known = {}
    for line in KNOWN_MISSES.read_text("utf-8").splitlines():
        if line and not line.startswith("#"):
            locale, handout, edition, reason, sentence = line.split("\t")
            known[(locale, handout, edition, sentence)] = reason
    return known


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


@pytest.mark.parametrize("locale", LOCALES)
def test_every_printed_sentence_extracts_exactly(built_library: Project, locale: str) -> None:
    """Every sentence of every handout, both editions, is in the extracted text as the catalog
    has it (whitespace aside, marks in canonical order), but for the misses listed with their
    reason in tests/data/text_layer_misses.tsv. A new miss fails; so does a listed one that no
    longer misses (take it off the list)."""
    known = {key: reason for key, reason in known_misses().items() if key[0] == locale}
    missing = set()
    for handout in load_content(built_library.handouts_dir, built_library.root).handouts:
        sentences = printed_sentences(built_library, locale, handout)
        for edition in (name for name, e in EDITIONS.items() if e.suffix == ".pdf"):
            text = canonical(normalise(pdf_text(pdf_path(built_library, locale, handout.id, edition))))
            missing |= {(locale, handout.id, edition, s) for s in sentences if canonical(s) not in text}
    new = sorted(missing - known.keys())
    assert not new, "not in the extracted text (locale, handout, edition, sentence):\n" + "\n".join(
        "\t".join(key) for key in new)
    stale = sorted(known.keys() - missing)
    assert not stale, f"listed in {KNOWN_MISSES.name} but extracted whole now:\n" + "\n".join(
        "\t".join(key) for key in stale)
