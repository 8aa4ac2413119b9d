"""The language-assistance sheet's layout: right-to-left lines get a page of their own.

poppler reads a page in the direction of most of its letters, so an Arabic line on the English
page extracted in visual pieces (test_print_gate.py reads the built sheet). Here, fast: which
lines go where, from the locale data, without a hand list of languages.
"""

from __future__ import annotations

import gettext
import re
from pathlib import Path

from handoutkit.content.settings import Project
from handoutkit.render.renderer import language_assistance_html, notice_line


def sheet_lists(project: Project, locales: list[str]) -> list[list[str]]:
    """The sheet's lists, in order, each as its lines' locales."""
    lines = [notice_line(project, loc, gettext.NullTranslations(), ("Noto Sans",)) for loc in locales]
    html = language_assistance_html(project, lines)
    lists = re.findall(r'<ul class="notices[^"]*">(.*?)</ul>', html, re.DOTALL)
    return [re.findall(r'data-locale="([^"]+)"', block) for block in lists]


def test_right_to_left_lines_follow_on_a_page_of_their_own(sample: Project) -> None:
    lines = ["en", "ar", "es", "fa", "ug", "zh_Hans"]
    assert sheet_lists(sample, lines) == [["en", "es", "zh_Hans"], ["ar", "fa", "ug"]]
    html = language_assistance_html(sample, [notice_line(sample, "ar", gettext.NullTranslations(), ())])
    assert '<ul class="notices notices-rtl">' in html


def test_a_sheet_without_right_to_left_languages_is_one_list(sample: Project) -> None:
    assert sheet_lists(sample, ["en", "es", "ko"]) == [["en", "es", "ko"]]


def test_the_right_to_left_list_starts_a_page() -> None:
    css = (Path(__file__).parent.parent / "templates" / "print.css").read_text()
    assert re.search(r"\.notices-rtl\s*\{[^}]*break-before:\s*page", css)
