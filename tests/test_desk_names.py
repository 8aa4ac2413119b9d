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
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handoutkit.content.settings import Project
from handoutkit.desk.pool import DeskPool, PrintJob, prepare_desk, render_print
from handoutkit.render.pdftags import MIRRORED, align_glyphs, bidi_levels, glyph_spans, mixed_run_spans, visual_order
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
    # the lam-lam-ha glyph drawn bare and under marks in one document: its ToUnicode is the text
    # of the first cluster it was drawn in, in either order
    "الله اللّٰه",
    "اللّٰه الله",
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


@pytest.mark.parametrize("text, rtl, drawn", [
    ("Ali علي", False, "Ali يلع"),
    ("Ali علي", True, "يلع Ali"),
    ("(علي) علي Ali", False, "(يلع) يلع Ali"),  # the brackets stay outside (rule N0)
    ("علي (Ali)", True, ")Ali( يلع"),
    # the bidi report quotes the text: a name that looks like its fields is read as a name
    ("levels: [Level(1,)] paragraphs: [ علي", False, "levels: [Level(1,)] paragraphs: [ يلع"),
])
def test_a_mixed_run_is_drawn_in_the_bidi_visual_order(text: str, rtl: bool, drawn: str) -> None:
    levels = bidi_levels(text, rtl)
    assert levels is not None
    assert "".join(text[i] for i in visual_order(levels)).translate(MIRRORED) in (drawn, drawn.translate(MIRRORED))


@pytest.mark.parametrize("glyphs, text, rtl, spans", [
    # "علي Ali" in a left-to-right line, drawn "يلع Ali": the space fenced left to right
    (["ي", "ل", "ع", " ", "A", "l", "i"], "علي Ali", False, {3: "\u200e \u200e"}),
    # in a right-to-left line, drawn "يلع Ali" too: the space is the line's, fenced right to left
    (["ي", "ل", "ع", " ", "A", "l", "i"], "Ali علي", True, {3: "\u200f \u200f"}),
    # "عبد الله Smith", left to right: the ligature's letters in drawing order; the space inside
    # the Arabic piece left alone, the one between the pieces fenced left to right
    (["لله", "ا", " ", "د", "ب", "ع", " ", "S", "m", "i", "t", "h"], "عبد الله Smith", False,
     {0: "هلل", 6: "\u200e \u200e"}),
    # "Dr. (Jean-Luc) علي" right to left: the punctuation inside the Latin piece left alone
    (["ي", "ل", "ع", " ", "D", "r", ".", " ", "(", "J", ")"], "Dr. (J) علي", True,
     {3: "\u200f \u200f", 10: "\u200e)\u200e"}),
    # "Zoë" typed with a combining mark, in a right-to-left line: the letter composed
    (["Z", "o", "e\u0308", "", " ", "د", "م", "ح", "م"], "محمد Zoe\u0308", True, {2: "ë", 3: "", 4: "\u200f \u200f"}),
])
def test_a_mixed_runs_glyphs_get_their_text(glyphs: list[str], text: str, rtl: bool, spans: dict) -> None:
    assert mixed_run_spans(glyphs, text, rtl) == spans


ARABIC_WORDS = ["علي", "عبد", "الله", "اللّٰه", "مُحَمَّد", "شيئًا", "لا", "فاطمة", "حسن", "محمد\u200cرضا"]
LATIN_WORDS = ["Ali", "Smith", "O'Brien", "María", "Zoe\u0308", "Nguyễn", "Dr.", "Jean-Luc"]


@st.composite
def mixed_names(draw: st.DrawFn) -> str:
    """Two to four words, at least one in each direction, one of them maybe in brackets."""
    words = draw(st.lists(st.sampled_from(ARABIC_WORDS + LATIN_WORDS), min_size=2, max_size=4))
    words[0] = draw(st.sampled_from(ARABIC_WORDS))
    words[-1] = draw(st.sampled_from(LATIN_WORDS))
    words = draw(st.permutations(words))
    if draw(st.booleans()):
        index = draw(st.integers(0, len(words) - 1))
        words[index] = f"({words[index]})"
    return " ".join(words)


@pytest.mark.slow  # about 40 renders through the desk's own render
@pytest.mark.parametrize("locale", ["ar", "en"])
@settings(max_examples=20, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=mixed_names())
def test_any_name_mixing_directions_extracts_as_typed(desk: dict, locale: str, name: str) -> None:
    result = render_print(PrintJob("warning-signs", locale, {**NO_DETAILS, "name": name}), desk)
    assert not result.error, result.error
    assert unicodedata.normalize("NFC", name) in extracted(result.pdf)


@pytest.mark.slow
@pytest.mark.parametrize("locale", ["ar", "en"])
@pytest.mark.parametrize("name, surgeon", [("عبد الله", "عبد اللّٰه"), ("عبد اللّٰه", "عبد الله")])
def test_a_name_and_a_surgeon_that_share_a_ligature_extract_as_typed(desk: dict, locale: str, name: str,
                                                                       surgeon: str) -> None:
    result = render_print(PrintJob("warning-signs", locale, {**NO_DETAILS, "name": name, "surgeon": surgeon}), desk)
    assert not result.error, result.error
    text = extracted(result.pdf)
    assert unicodedata.normalize("NFC", name) in text and unicodedata.normalize("NFC", surgeon) in text
