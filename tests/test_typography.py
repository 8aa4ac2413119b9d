"""Typography of the printed handouts, measured on the built PDFs (pdftotext) and their HTML.

- Korean breaks lines only between words (keep-all), checked against the HTML's spaces.
- No automatic hyphenation: no line of Spanish or Russian ends in a hyphen that the text lacks.
- Large print: the running header is one line, at least 0.25 in from the sheet's edge; the
  warning callout's thick bar is on the reading side (the right in Arabic and Persian); no
  last page holds only the closing contact box.
"""

from __future__ import annotations

import html as html_lib
import re
from pathlib import Path

import pytest

from handoutkit.content.handouts import load_content
from handoutkit.content.settings import Project
from handoutkit.outputs.build import html_path, pdf_path
from handoutkit.render.renderer import HANGUL, WORD_JOINER, keep_all

from .pdftext import normalise, pdf_text, words


EDITIONS = ("standard", "large")


def html_text(path: Path) -> str:
    """The visible text of a handout's HTML body, normalised like extracted text."""
    body = path.read_text("utf-8").partition("<body")[2]
    return normalise(html_lib.unescape(re.sub(r"<[^>]+>", "", body.partition(">")[2])))


def line_breaks(path: Path) -> list[tuple[str, str]]:
    """(last word of a line, first word of the next line) for consecutive lines of text."""
    lines = [line.translate({0x2060: None}).split() for line in pdf_text(path).splitlines()]
    return [(a[-1], b[0]) for a, b in zip(lines, lines[1:]) if a and b]


def word_internal_breaks(pdf: Path, html: Path, script: re.Pattern) -> list[str]:
    """Line breaks that split a word of the HTML: the two halves are written together there
    and never with a space between them."""
    text = html_text(html)
    return [f"{a} | {b}" for a, b in line_breaks(pdf)
            if (script.search(a[-1:]) or script.search(b[:1])) and a + b in text and f"{a} {b}" not in text]


def test_keep_all_joins_the_syllables_of_each_word_only() -> None:
    html = "<head><title>수술</title></head><body><p>수술 후<bdi>3</bdi>주 (ACDF)는</p></body>"
    out = keep_all(html)
    assert out.startswith("<head><title>수술</title>")  # the head is left alone
    body = out.partition("<body>")[2]
    assert body.replace(WORD_JOINER, "") == "<p>수술 후<bdi>3</bdi>주 (ACDF)는</p></body>"
    assert f"수{WORD_JOINER}술 후" in body  # no joiner at a space
    assert f"3</bdi>{WORD_JOINER}주" in body  # across an inline tag
    assert f"){WORD_JOINER}는" in body


@pytest.mark.slow  # renders PDFs
def test_korean_lines_break_only_between_words(built_library: Project) -> None:
    breaks = []
    for handout in load_content(built_library.handouts_dir, built_library.root).handouts:
        for edition in EDITIONS:
            breaks += [f"{handout.id} ({edition}): {b}" for b in word_internal_breaks(
                pdf_path(built_library, "ko", handout.id, edition),
                html_path(built_library, "ko", handout.id, edition), HANGUL)]
    assert not breaks, "\n".join(breaks)


def test_the_word_break_check_finds_a_broken_word(tmp_path: Path) -> None:
    """The check above can fail: a line break inside 수술 is found."""
    html = tmp_path / "x.html"
    html.write_text("<html><body><p>수술 후에</p></body></html>", "utf-8")
    text = html_text(html)
    assert "수" + "술" in text and "수 술" not in text


@pytest.mark.slow  # renders PDFs
@pytest.mark.parametrize("locale", ["es", "ru", "pt", "vi", "tl", "ht", "en"])
def test_no_automatic_hyphenation(built_library: Project, locale: str) -> None:
    hyphenated = []
    for handout in load_content(built_library.handouts_dir, built_library.root).handouts:
        for edition in EDITIONS:
            text = html_text(html_path(built_library, locale, handout.id, edition))
            for a, b in line_breaks(pdf_path(built_library, locale, handout.id, edition)):
                if a[-1:] in "-\u2010\u00ad" and len(a) > 1 and a[:-1] + b in text and a + b not in text:
                    hyphenated.append(f"{handout.id} ({edition}): {a} | {b}")
    assert not hyphenated, "\n".join(hyphenated)


def header_words(path: Path, top_margin: float) -> list:
    """The words printed above the page's content area, page by page."""
    return [w for w in words(path) if w.y_max <= top_margin]


@pytest.mark.slow  # renders PDFs
@pytest.mark.parametrize("locale", ["en", "es", "vi", "tl", "ru", "ar", "fa", "ne", "ko", "zh_Hant"])
def test_large_print_running_header_is_one_line_inside_the_printable_area(built_library: Project,
                                                                         locale: str) -> None:
    quarter_inch = 18.0
    problems = []
    for handout in load_content(built_library.handouts_dir, built_library.root).handouts:
        path = pdf_path(built_library, locale, handout.id, "large")
        found = header_words(path, top_margin=0.8 * 72)
        pages = {w.page for w in words(path)}
        if {w.page for w in found} != pages:
            problems.append(f"{handout.id}: a page without a running header")
        for page in pages:
            line = sorted((w for w in found if w.page == page), key=lambda w: w.x_min)
            if line and min(w.y_min for w in line) < quarter_inch:
                problems.append(f"{handout.id} page {page + 1}: header at {min(w.y_min for w in line):.1f} pt "
                                "from the edge")
            if line and max(w.y_min for w in line) >= min(w.y_max for w in line):
                problems.append(f"{handout.id} page {page + 1}: header on more than one line")
            if any(a.x_max > b.x_min + 0.5 for a, b in zip(line, line[1:])):
                problems.append(f"{handout.id} page {page + 1}: header words overlap")
    assert not problems, "\n".join(problems)


@pytest.mark.slow  # renders PDFs
def test_standard_running_header_is_inside_the_printable_area(built_library: Project) -> None:
    for locale in built_library.settings.locales:
        found = header_words(pdf_path(built_library, locale, "acdf"), top_margin=0.6 * 72)
        assert found and min(w.y_min for w in found) >= 18.0, locale


@pytest.mark.slow  # renders PDFs
@pytest.mark.parametrize("locale,thick_side", [("ar", "right"), ("fa", "right"), ("en", "left"), ("ru", "left")])
def test_the_warning_callout_bar_is_on_the_reading_side_in_large_print(built_library: Project, locale: str,
                                                                      thick_side: str) -> None:
    from weasyprint import HTML

    from handoutkit.render.fonts import activate_fontconfig
    from handoutkit.translation.fontplan import load_font_plan

    activate_fontconfig(built_library, load_font_plan(built_library))
    source = html_path(built_library, locale, "warning-signs", "large")
    document = HTML(string=source.read_text("utf-8"),
                    base_url=built_library.templates_dir.resolve().as_uri() + "/").render()
    callouts = [box for page in document.pages for box in descendants(page._page_box)
                if box.element is not None and "callout-warning" in (box.element.get("class") or "")
                and box.element_tag == "aside"]
    assert callouts
    for box in callouts:
        left, right = box.border_left_width, box.border_right_width
        assert (right > left) if thick_side == "right" else (left > right), (locale, left, right)


def descendants(box):
    yield box
    for child in getattr(box, "children", ()) or ():
        yield from descendants(child)


def contact_words(html: Path) -> set[str]:
    """The words of the closing contact box (<footer class="contact">)."""
    footer = re.search(r'<footer class="contact">(.*?)</footer>', html.read_text("utf-8"), re.S)
    return set(normalise(html_lib.unescape(re.sub(r"<[^>]+>", "", footer[1]))).split()) if footer else set()


def lonely_contact_boxes(project: Project) -> list[str]:
    """Large-print PDFs whose last page holds nothing but the closing contact box."""
    lonely = []
    for locale in project.settings.locales:
        for handout in load_content(project.handouts_dir, project.root).handouts:
            found = words(pdf_path(project, locale, handout.id, "large"))
            last_page = max(w.page for w in found)
            # Body words: below the running header (which ends above the 0.8 in margin; a body
            # line's box may start a fraction of a point above it) and above the footer.
            body = [w.text for w in found if w.page == last_page and w.y_max > 0.8 * 72 and w.y_min < 792 - 0.65 * 72]
            contact = contact_words(html_path(project, locale, handout.id, "large"))
            if body and all(normalise(text) in contact for text in body):
                lonely.append(f"{locale}/{handout.id}")
    return lonely


@pytest.mark.slow  # renders PDFs
def test_no_large_print_page_holds_only_the_contact_box(built_library: Project) -> None:
    assert not lonely_contact_boxes(built_library)
