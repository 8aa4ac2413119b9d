"""Health literacy beyond one formula: the "Key points" box of a procedure handout, and every medical
word explained where a patient first reads it (handouts/medical-words.yaml)."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoutkit.content.approval import fingerprint
from handoutkit.content.handouts import (
    SAFETY_MARK,
    Block,
    Handout,
    Revision,
    Section,
    Text,
    handout_texts,
    load_content,
)
from handoutkit.content.lint import check_key_points, lint
from handoutkit.content.medical_words import (
    read_medical_words,
    unexplained_word_problems,
)
from handoutkit.content.settings import Limits, Project
from handoutkit.content.sources import review_items
from handoutkit.errors import ProblemsError
from handoutkit.translation.catalogs import read_template

from .pdftext import pdf_text

LIMITS = Limits()
PROCEDURES = {"acdf", "cervical-disc-replacement", "lumbar-discectomy", "lumbar-fusion-tlif",
              "lumbar-laminectomy", "posterior-cervical-foraminotomy"}
KEY_POINTS = """kind: procedure
key_points:
  - Walk a little every day.
  - text: Call 911 if you have trouble breathing.
    safety: true
  - Rest when you are tired.
"""


def t(value: str, line: int = 5) -> Text:
    return Text(value, "handouts/x.yaml", line)


def handout(*sections: Section, points: tuple[str, ...] = (), kind: str = "procedure") -> Handout:
    return Handout("x", "handouts/x.yaml", t("Title", 2), t("Summary.", 3), Revision(1), sections,
                   kind=kind, key_points=tuple(t(p, 10 + i) for i, p in enumerate(points)), key_points_line=9)


def with_key_points(sample: Project, text: str = KEY_POINTS) -> None:
    path = sample.handouts_dir / "walking.yaml"
    path.write_text(path.read_text().replace("revision:\n", text + "revision:\n", 1))


# ---------------------------------------------------------------- key points


def test_a_procedure_handout_needs_three_to_five_key_points() -> None:
    [missing] = check_key_points(handout(), LIMITS)
    assert (missing.line, missing.severity) == (1, "error") and "add `key_points:`" in missing.message
    for count in (2, 6):
        [problem] = check_key_points(handout(points=tuple(f"Point {i}." for i in range(count))), LIMITS)
        assert problem.line == 9 and f"{count} key points; expected 3-5" in problem.message
    for count in (3, 5):
        assert check_key_points(handout(points=tuple(f"Point {i}." for i in range(count))), LIMITS) == []
    assert check_key_points(handout(kind="general"), LIMITS) == [], "only procedure handouts need them"


def test_key_points_are_read_in_page_order_with_their_marks(sample: Project) -> None:
    with_key_points(sample)
    walking = load_content(sample.handouts_dir, sample.root).get("walking")
    assert walking.kind == "procedure"
    values = [text.value for text in handout_texts(walking)]
    assert values[:5] == ["Walking after surgery", "Walking helps you heal.", "Walk a little every day.",
                          "Call 911 if you have trouble breathing.", "Rest when you are tired."]
    # "every day" is a duration for the safety rule (content/safety.py); the 911 line is marked by hand.
    assert [p.safety for p in walking.key_points] == [True, True, False]
    assert [item.section for item in review_items(walking, {})][:4] == ["Summary"] + ["Key points"] * 3


def test_an_unknown_kind_is_a_clear_error(sample: Project) -> None:
    with_key_points(sample, KEY_POINTS.replace("kind: procedure", "kind: surgery"))
    with pytest.raises(ProblemsError, match=r"handouts/walking.yaml:4: expected the handout kind to be one "
                                            r"of procedure, general; found 'surgery'"):
        load_content(sample.handouts_dir, sample.root)


def test_changing_a_key_point_needs_a_new_clinical_approval(sample: Project) -> None:
    with_key_points(sample)
    clinic = sample.settings.clinic
    before = fingerprint(load_content(sample.handouts_dir, sample.root).get("walking"), clinic)
    path = sample.handouts_dir / "walking.yaml"
    path.write_text(path.read_text().replace("Walk a little every day.", "Walk a lot every day."))
    assert fingerprint(load_content(sample.handouts_dir, sample.root).get("walking"), clinic) != before


def test_every_procedure_handout_of_the_repository_has_key_points(repo: Project) -> None:
    content = load_content(repo.handouts_dir, repo.root)
    assert {h.id for h in content.handouts if h.kind == "procedure"} == PROCEDURES
    assert all(3 <= len(h.key_points) <= 5 for h in content.handouts if h.id in PROCEDURES)
    # The box's heading and its safety lines reach translators like every other string.
    template = read_template(repo)
    assert template.get("Key points") is not None
    emergency = template.get("Call {emergency_number} right away if you have trouble breathing or a severe headache.")
    assert emergency is not None and any(SAFETY_MARK in c for c in emergency.auto_comments)


@pytest.mark.slow
def test_the_key_points_box_opens_the_printed_handout(sample: Project) -> None:
    from handoutkit.outputs.build import build, pdf_path

    with_key_points(sample)
    result = build(sample, locales=("en",), editions=("standard",), workers=1, progress=lambda line: None)
    assert result.ok, [str(p) for p in result.problems]
    text = pdf_text(pdf_path(sample, "en", "walking"))
    assert text.index("Walking helps you heal.") < text.index("Key points") < text.index("Walk a little every day.") \
        < text.index("Why walk")
    from pypdf import PdfReader

    from .test_accessibility import structure_types

    types = [kind for kind in structure_types(PdfReader(pdf_path(sample, "en", "walking")).trailer["/Root"])
             if kind != "/Span"]
    # The box is the first section: a heading a screen reader can jump to, then a list of three items.
    box = types.index("/Sect")
    assert types[box + 1:box + 4] == ["/H2", "/L", "/LI"]
    assert types[box + 3:].count("/LI") >= 3


# ---------------------------------------------------------------- medical words (handouts/medical-words.yaml)

MEDICAL_WORDS = """terms:
  - term: incision
    forms: [incision, incisions]
    explained_by: [cut]
  - term: spirometer
    explained_by: [small device you breathe into]
"""


def medical_words(tmp_path: Path, text: str = MEDICAL_WORDS) -> list:
    (tmp_path / "medical-words.yaml").write_text(text)
    return read_medical_words(tmp_path, tmp_path)


def section(heading: str, *texts: tuple[str, int], line: int = 20) -> Section:
    return Section(t(heading, line), (Block("bullets", line + 1, items=tuple(t(v, n) for v, n in texts)),))


def test_a_term_must_be_explained_where_it_is_first_used(tmp_path: Path) -> None:
    terms = medical_words(tmp_path)
    bad = handout(section("Recovery", ("Keep your incision clean.", 21), ("An incision is a cut.", 22)))
    [problem] = unexplained_word_problems(bad, terms)
    assert (problem.path, problem.line, problem.severity) == ("handouts/x.yaml", 21, "error")
    assert "'incision' is used here for the first time" in problem.message and "'cut'" in problem.message
    good = handout(section("Recovery", ("Your incisions (cuts) heal in time.", 21), ("Keep your incision clean.", 22)))
    assert unexplained_word_problems(good, terms) == []


def test_a_heading_may_be_explained_by_its_section(tmp_path: Path) -> None:
    terms = medical_words(tmp_path)
    explained = handout(section("Caring for your incision", ("Your incision is the cut from surgery.", 22)))
    assert unexplained_word_problems(explained, terms) == []
    unexplained = handout(section("Caring for your incision", ("Keep it clean.", 22)))
    assert [p.line for p in unexplained_word_problems(unexplained, terms)] == [20]


def test_key_points_come_first_and_the_masthead_is_exempt(tmp_path: Path) -> None:
    terms = medical_words(tmp_path)
    later = section("Breathing", ("Use a spirometer (a small device you breathe into).", 22))
    assert unexplained_word_problems(handout(later), terms) == []
    [problem] = unexplained_word_problems(handout(later, points=("Use your spirometer every day.",)), terms)
    assert problem.line == 10, "the key points are read before the sections"
    # The title and summary name things; the explanation may follow below them.
    assert unexplained_word_problems(Handout("x", "handouts/x.yaml", t("Spirometer", 2), t("About the spirometer.", 3),
                                     Revision(1), (later,)), terms) == []


def test_a_broken_medical_words_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ProblemsError, match=r"medical-words.yaml:2: missing required key 'explained_by' in a term"):
        medical_words(tmp_path, "terms:\n  - term: incision\n")
    assert medical_words(tmp_path, "terms:\n  - {term: lamina, explained_by: [part of the bone]}\n")[0].term == "lamina"


def test_the_repository_explains_every_listed_medical_word(repo: Project) -> None:
    from babel.support import Translations

    terms = read_medical_words(repo.handouts_dir, repo.root)
    assert {"incision", "anesthesia", "spirometer", "imaging", "herniated"} <= {term.term for term in terms}
    report = lint(repo, {"en": Translations()})
    assert [str(p) for p in report.problems if "for the first time" in p.message] == []
    # The check can fail on the real content: drop one explanation and it names the line.
    acdf = load_content(repo.handouts_dir, repo.root).get("acdf")
    stripped = Handout(acdf.id, acdf.path, acdf.title, acdf.summary, acdf.revision, tuple(
        Section(s.heading, tuple(Block(b.kind, b.line, b.text and Text(b.text.value.replace(" (cut)", ""),
                                                                         b.text.path, b.text.line),
                                       b.items, b.callout, b.title) for b in s.blocks))
        for s in acdf.sections), key_points=acdf.key_points)
    [problem] = [p for p in unexplained_word_problems(stripped, terms) if "'incision'" in p.message]
    assert problem.path == "handouts/acdf.yaml"
