"""The accessibility and print gate: every PDF the build writes, read as printed and as tagged.

Over the whole built library (`built_library`: every handout in every locale, standard and
large print, every packet, the language-assistance sheet, with the web address set so that
every handout carries its QR code): the PDF/UA structure checks of test_matterhorn.py run over
each of these files (its `all_pdfs` is every PDF under build/); here, what a printer and a
reader get (tests/printgate.py):

- no text within 0.25 in of a page edge;
- no phone number split across lines;
- no last page that holds only the furniture and a box;
- each language's line of the language-assistance sheet extracts in reading order.
"""

from __future__ import annotations

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
    assert packets and len(paths) == 2 * len(content.handouts) * len(locales) + len(packets) * len(locales) + 1
    assert {p.parent.parent.name for p in paths} == {"pdf", "pdf-large", "packets", built_library.build_dir.name}


def gate(built_library: Project, check) -> list[str]:
    failures = []
    for path in all_pdfs(built_library):
        failures += [f"{path.relative_to(built_library.build_dir)}: {p}" for p in check(pages(path))]
    return failures


def test_no_text_within_a_quarter_inch_of_an_edge(built_library: Project) -> None:
    failures = gate(built_library, near_edges)
    assert not failures, f"{len(failures)} word(s) where printers cut:\n" + "\n".join(failures[:30])


def test_no_phone_number_split_across_lines(built_library: Project) -> None:
    failures = gate(built_library, lambda doc: split_phones(doc, built_library.settings.clinic.phone))
    assert not failures, f"{len(failures)} split phone number(s):\n" + "\n".join(failures[:30])


def test_no_last_page_with_only_furniture_and_a_box(built_library: Project) -> None:
    failures = gate(built_library, short_last_page)
    assert not failures, f"{len(failures)} near-empty last page(s):\n" + "\n".join(failures[:30])


def test_every_tagline_of_the_language_sheet_extracts_in_reading_order(built_library: Project) -> None:
    """Arabic and Persian taglines extracted letters backwards (the repair ran only for right-to-left
    documents; the sheet is English). Each run of words between the phone number and the number
    itself must extract as written; the full stop after the number in right-to-left lines is not
    checked (poppler puts it before the number: see docs/accessibility.md)."""
    text = normalise(pdf_text(built_library.build_dir / "pdf" / "language-assistance.pdf"))
    phone = built_library.settings.clinic.phone
    missing = []
    for locale in built_library.settings.translated_locales:
        notice = load_catalog(built_library, locale).get(
            "Language assistance is available at no cost. Call %(phone)s.").string
        rtl = tag_direction(html_lang(locale)) == "rtl"
        for part in [*notice.split("%(phone)s"), phone]:
            part = part.strip().rstrip(".") if rtl else part.strip()
            if part and normalise(part) not in text:
                missing.append(f"{locale}: {part!r}")
    assert not missing, "not in the extracted text:\n" + "\n".join(missing)
