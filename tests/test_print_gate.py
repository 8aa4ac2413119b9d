"""The accessibility and print gate: every PDF the build writes, read as printed and as tagged.

Over the whole built library (`built_library`: every handout in every locale, standard and
large print, every packet, the language-assistance sheet, every handout's clinical review sheet
(build/review/; the back-translation sheets are CSV, not PDF), with the web address set so that
every handout carries its QR code): the PDF/UA structure checks of test_matterhorn.py run over
each of these files (its `all_pdfs` is every PDF under build/); here, what a printer and a
reader get (tests/printgate.py):

- no text within 0.25 in of a page edge;
- no phone number split across lines;
- no last page that holds only the furniture and a box;
- each language's line of the language-assistance sheet extracts as written, right-to-left lines
  included (they have the sheet's second page to themselves, see docs/accessibility.md).
"""

from __future__ import annotations

import re

import pytest

from handoutkit.content.handouts import load_content
from handoutkit.content.settings import Project
from handoutkit.outputs.packets import load_packets
from handoutkit.translation.catalogs import load_catalog
from handoutkit.translation.locales import html_lang, tag_direction

from .pdftext import normalise, pdf_text
from .printgate import near_edges, pages, short_last_page, split_phones
from .test_matterhorn import all_pdfs

pytestmark = pytest.mark.slow


def test_the_gate_covers_every_pdf_the_build_writes(built_library: Project) -> None:
    content = load_content(built_library.handouts_dir, built_library.root)
    locales = built_library.settings.locales
    packets = load_packets(built_library, content)
    paths = all_pdfs(built_library)
    handouts = len(content.handouts)
    # both editions of every handout, every packet, in every locale; the language sheet; a review sheet per handout
    assert packets and len(paths) == 2 * handouts * len(locales) + len(packets) * len(locales) + 1 + handouts
    assert {p.parent.parent.name for p in paths} == {"pdf", "pdf-large", "packets", built_library.build_dir.name}
    assert sorted(p.stem for p in paths if p.parent.name == "review") == sorted(h.id for h in content.handouts)


def gate(built_library: Project, check) -> list[str]:
    failures = []
    for path in all_pdfs(built_library):
        failures += [f"{path.relative_to(built_library.build_dir)}: {p}" for p in check(pages(path))]
    return failures


def test_no_text_within_a_quarter_inch_of_an_edge(built_library: Project) -> None:
    """Nothing a patient reads comes within 0.25 in of an edge, every word held to the rule: the
    running footer included (issue 24: the translation's draft notice has a row of its own across
    the whole width, so it no longer wraps to a third line in ru, vi and tl large print)."""
    failures = gate(built_library, near_edges)
    assert not failures, f"{len(failures)} word(s) where printers cut:\n" + "\n".join(failures[:30])


def test_no_phone_number_split_across_lines(built_library: Project) -> None:
    failures = gate(built_library, lambda doc: split_phones(doc, built_library.settings.clinic.phone))
    assert not failures, f"{len(failures)} split phone number(s):\n" + "\n".join(failures[:30])


def test_no_last_page_with_only_furniture_and_a_box(built_library: Project) -> None:
    failures = gate(built_library, short_last_page)
    assert not failures, f"{len(failures)} near-empty last page(s):\n" + "\n".join(failures[:30])


NOTICE = "Language assistance is available at no cost. Call %(phone)s."


def taglines(project: Project) -> dict[str, str]:
    """Each translated locale's tagline as printed (the phone number in place)."""
    phone = project.settings.clinic.phone
    return {locale: load_catalog(project, locale).get(NOTICE).string.replace("%(phone)s", phone)
            for locale in project.settings.translated_locales}


def sheet_text(project: Project) -> str:
    return normalise(pdf_text(project.build_dir / "pdf" / "language-assistance.pdf"))


def right_to_left(locale: str) -> bool:
    return tag_direction(html_lang(locale)) == "rtl"


def test_every_left_to_right_tagline_extracts_exactly(built_library: Project) -> None:
    text = sheet_text(built_library)
    missing = [f"{loc}: {line!r}" for loc, line in taglines(built_library).items()
               if not right_to_left(loc) and normalise(line) not in text]
    assert not missing, "not in the extracted text:\n" + "\n".join(missing)


WORD_BREAKS = re.compile(r"[\s.,،()]+")  # poppler glues a full stop between two right-to-left pieces


def test_right_to_left_taglines_extract_word_by_word_in_reading_order(built_library: Project) -> None:
    """The Arabic and Persian taglines extracted with every word's letters backwards ("ىلع لصتا"):
    the repair ran only for right-to-left documents, and the sheet is English. Each word now
    extracts as written (the order of the sentence's pieces is the next test's)."""
    words = set(WORD_BREAKS.split(sheet_text(built_library)))
    missing = []
    for locale, line in taglines(built_library).items():
        if right_to_left(locale):
            missing += [f"{locale}: {w!r}" for w in WORD_BREAKS.split(line) if w and w not in words]
    assert not missing, "not in the extracted text:\n" + "\n".join(missing)


def test_right_to_left_taglines_extract_exactly(built_library: Project) -> None:
    """poppler reads a page in the direction of most of its letters; on the English page an Arabic
    line came out in visual pieces (". (555) 010-0142 اتصل على . المساعدة ..."). The right-to-left
    taglines now have the sheet's second page to themselves, and extract exactly."""
    text = sheet_text(built_library)
    missing = [f"{loc}: {line!r}" for loc, line in taglines(built_library).items()
               if right_to_left(loc) and normalise(line) not in text]
    assert not missing, "not in the extracted text:\n" + "\n".join(missing)
