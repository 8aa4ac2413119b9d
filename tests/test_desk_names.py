"""Front desk: a patient's name extracts from the printed PDF exactly as it was typed (issue 24).

Names are typed in any script, into a handout in any language: the lam-lam-ha ligature of "الله"
extracted as "اهلل", and an Arabic name in an English or Nepali handout extracted backwards.
"""

from __future__ import annotations

import re
import subprocess
import unicodedata
from pathlib import Path

import pytest

from handoutkit.content.settings import Project
from handoutkit.desk.pool import DeskPool, PrintJob, prepare_desk, render_print
from handoutkit.render.pdftags import align_glyphs, glyph_spans, piece_edges
from handoutkit.render.renderer import isolated_name

from .conftest import copy_repo
from .pdftext import normalise

NAMES = [
    "عبد الله محمد",  # lam-lam-ha: one glyph for three letters
    "عبدالله",
    "عبد اللّٰه",  # the ligature under a shadda and a dagger alef
    "لا",  # lam-alef
    "شيئًا",  # a raised tanwin
    "مُحَمَّد",  # vowel marks
    "محمد\u200cرضا",  # Persian, with a zero-width non-joiner
    "क्षत्रिय",  # Devanagari conjuncts and a pre-base vowel sign
    "Zoe\u0308 O'Brien",  # a Latin name, its diaeresis typed as a combining mark
    # names that mix directions: isolated in the page's direction, the pieces' edges marked
    "Ali علي",
    "علي Ali",
    "Ali علي Hassan",
    "عبد الله Smith",  # with the lam-lam-ha ligature
    "Maria (ماريا)",
    "محمد Zoe\u0308",
]
LOCALES = ["ar", "fa", "en", "ne"]
NO_DETAILS = {"name": "", "procedure_date": "", "arrival_time": "", "surgeon": "", "instructions": ""}


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The desk's render state for the repository's handouts in the locales of these tests."""
    project = copy_repo(tmp_path_factory.mktemp("desk-names"))
    clinic = project.root / "handouts" / "clinic.yaml"
    clinic.write_text(re.sub(r"^locales: .*$", f"locales: [{', '.join(LOCALES[2:] + LOCALES[:2])}]",
                             clinic.read_text("utf-8"), flags=re.M), "utf-8")
    setup = prepare_desk(Project(project.root))
    assert not setup.unavailable, setup.unavailable
    pool = DeskPool(setup, workers=0)
    pool.start()
    return pool._inline


def extracted(pdf: bytes) -> str:
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode()
    return unicodedata.normalize("NFC", normalise(text))


@pytest.mark.slow  # renders a PDF per name and locale through the desk's own render (about 15 s)
@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", NAMES)
def test_a_typed_name_extracts_as_typed(desk: dict, locale: str, name: str) -> None:
    result = render_print(PrintJob("warning-signs", locale, {**NO_DETAILS, "name": name}), desk)
    assert not result.error, result.error
    assert unicodedata.normalize("NFC", name) in extracted(result.pdf)


@pytest.mark.parametrize("glyphs, text, spans", [
    # drawn left to right: the ligature (ToUnicode "لله", the cluster's text) left of the alef
    (["لله", "ا", "د", "ب", "ع"], "عبدالله", [(0, 1, "هلل")]),
    # the marks' glyph drawn first holds the whole cluster's text; the ligature after it none
    (["للّٰه", "", "ا"], "اللّٰه", [(0, 1, ""), (1, 2, "للّٰه"[::-1])]),
])
def test_a_ligature_is_given_its_letters_in_drawing_order(glyphs: list[str], text: str, spans: list) -> None:
    """poppler spreads a glyph's text over its width left to right, then reverses the line."""
    assert glyph_spans(align_glyphs(glyphs, text)) == spans


@pytest.mark.parametrize("name, direction, opening", [
    ("Ali علي", "ltr", '<bdi dir="ltr">\u2066'),  # mixed: the page's direction
    ("Ali علي", "rtl", '<bdi dir="rtl">\u2067'),
    ("عبد الله", "ltr", "<bdi>\u2068"),  # one direction: its own (first strong letter)
    ("John Jr.", "rtl", "<bdi>\u2068"),  # the full stop stays at its end in an Arabic handout
    ("12/05", "rtl", "<bdi>\u2068"),
])
def test_a_name_that_mixes_directions_is_isolated_in_the_pages(name: str, direction: str, opening: str) -> None:
    html = str(isolated_name(name, direction)).replace("&#x2066;", "\u2066").replace("&#x2067;", "\u2067")
    html = html.replace("&#x2068;", "\u2068")
    assert html.startswith(opening) and name in html


@pytest.mark.parametrize("glyphs, rtl, spans", [
    # "علي Ali" in a left-to-right line, drawn "يلع Ali": the space after the Arabic piece
    (["ي", "ل", "ع", " ", "A", "l", "i"], False, [(3, 4, "\u200e ")]),
    # "Maria (ماريا)" drawn "Maria (ايرام)": the closing bracket after the Arabic piece
    (["M", " ", "(", "ا", "م", ")"], False, [(5, 6, "\u200e)")]),
    # "Ali علي" in a right-to-left line, drawn "يلع Ali": the space before the Latin piece
    (["ي", "ل", "ع", " ", "A", "l", "i"], True, [(3, 4, " \u200f")]),
    # a space inside the Arabic piece ("عبد الله") is left alone
    (["ه", "ل", "ل", "ا", " ", "د", "ب", "ع"], False, []),
])
def test_the_edges_of_a_mixed_names_pieces_get_direction_marks(glyphs: list[str], rtl: bool, spans: list) -> None:
    assert piece_edges(glyphs, rtl) == spans


def test_a_mixed_run_is_matched_in_the_bidi_visual_order() -> None:
    # "عبد الله Smith" in an English line: the Arabic piece reversed, the ligature's text logical
    glyphs = ["لله", "ا", " ", "د", "ب", "ع", " ", "S", "m", "i", "t", "h"]
    chars = align_glyphs(glyphs, "عبد الله Smith", rtl=False)
    assert chars is not None
    assert glyph_spans(chars, fences=False, rtl=False) == [(0, 1, "هلل"), (6, 7, "\u200e ")]
