"""A review verifies what it records: each back-translation is compared with the English first.

Harmful back-translations (an honest reviewer reporting what a wrong translation
says) are recorded as disputed and keep the draft notice; rows that are not
back-translations at all are refused and nothing is written. The false-alarm
rate of the verification is measured on the 12 locales' own back-translation
comments (machine drafts of honest back-translations).
"""

from __future__ import annotations

import pytest
import yaml

from handoutkit.content.settings import Project
from handoutkit.errors import ProblemsError
from handoutkit.translation.catalogs import load_catalog
from handoutkit.translation.checks import check_locale
from handoutkit.translation.meaning import disagreements, not_a_back_translation
from handoutkit.translation.review import (
    SheetRow,
    back_translations_path,
    changed_since_review,
    open_safety_entries,
    record_review,
    review_path,
    review_state,
)

from .conftest import REPO, copy_repo
from .signing import approver

MEDICINE = "Do not stop or change any medicine on your own."
EMERGENCY = "Call {emergency_number} right away if you have trouble breathing or a severe headache."
NIGHTS = ("Many patients go home the same day. Some stay in the hospital for one or more nights. "
          "Have someone drive you home.")
HARMFUL = {
    MEDICINE: "Stop or change any medicine on your own.",
    EMERGENCY: "Rest at home today.",
    NIGHTS: "Many patients go home the same day. Some stay in the hospital two or more nights. "
            "Ask someone to take you home by car.",
}
PREFIX = "back-translation (machine draft, not a human review):"


@pytest.fixture
def project(tmp_path) -> Project:
    return copy_repo(tmp_path)


def comment_back_translation(message) -> str:
    return " ".join(message.user_comments).split(PREFIX, 1)[1].split(" fixed: ")[0].strip()


def honest_rows(project: Project, locale: str = "es", note: str = "") -> list[SheetRow]:
    catalog = load_catalog(project, locale)
    return [SheetRow(line, m.context, str(m.id), str(m.string), comment_back_translation(m), note)
            for line, m in enumerate(open_safety_entries(project, locale, catalog), 2)]


def with_answers(rows: list[SheetRow], answers: dict[str, str]) -> list[SheetRow]:
    return [SheetRow(r.line, r.context, r.english, r.translation, answers.get(r.english, r.back_translation), r.note)
            for r in rows]


@pytest.mark.parametrize("english, back, reason", [
    (MEDICINE, HARMFUL[MEDICINE], "negation"),
    (EMERGENCY, HARMFUL[EMERGENCY], "placeholder"),
    (EMERGENCY, HARMFUL[EMERGENCY], "content"),
    (NIGHTS, HARMFUL[NIGHTS], "numbers: the English has 1, the back-translation 2"),
    ("Most people recover in 3 weeks to 3 months.", "Most people recover in 3 days to 3 months.", "durations"),
    ("Most people recover in 3 weeks to 3 months.", "Most people recover in three weeks to 8 months.", "numbers"),
    ("Do not lift anything heavier than 10 pounds.", "Do not lift anything heavier than 10 kilograms.", "units"),
])
def test_a_back_translation_that_says_something_else_is_named(english: str, back: str, reason: str) -> None:
    assert any(reason in r for r in disagreements(english, back)), disagreements(english, back)


@pytest.mark.parametrize("english, back", [
    (MEDICINE, "Don't stop or change any of your medicines by yourself."),
    (EMERGENCY, "If it is hard to breathe or you have a very bad headache, call 911 right away."),
    (NIGHTS, "Many patients go home on the same day. Some stay one night or more in the hospital. "
             "Ask someone to drive you home."),
    ("Most people recover in 3 weeks to 3 months.", "Most people get better in three weeks to three months."),
    ("Call your surgeon's office at {clinic_phone} if you have", "Phone the surgeon's office at 555-0100 if you have"),
])
def test_an_honest_back_translation_agrees(english: str, back: str) -> None:
    assert disagreements(english, back) == []


@pytest.mark.parametrize("back", ["TODO", "n/a", "...", "(the reviewer's back-translation)", "back-translation",
                                  "same", "ok", "???", "-"])
def test_placeholder_text_is_not_a_back_translation(back: str) -> None:
    assert "placeholder text" in not_a_back_translation(MEDICINE, back)


def test_harmful_back_translations_are_disputed_and_the_notice_stays(project: Project) -> None:
    rows = with_answers(honest_rows(project, note=""), HARMFUL)
    catalog = load_catalog(project, "es")
    state = record_review(project, "es", catalog, "Ana Ruiz, CMI", approver(project, "ana"), back_translations=rows)
    disputed = {p.message.rsplit(": ", 1)[-1].strip("'") for p in state.disputed}
    assert {MEDICINE, EMERGENCY, NIGHTS} <= disputed, state.disputed
    assert state.status == "pending", "a disputed row keeps the draft notice"
    still_open = {str(m.id) for m in open_safety_entries(project, "es", catalog)}
    assert {MEDICINE, EMERGENCY, NIGHTS} <= still_open
    records = yaml.safe_load(back_translations_path(project, "es").read_text("utf-8"))["entries"]
    medicine = next(r for r in records if r["english"] == MEDICINE)
    assert medicine["back_translation"] == HARMFUL[MEDICINE] and "negation" in medicine["disputed"][0]


def test_a_coordinator_note_confirms_a_disputed_row(project: Project) -> None:
    catalog = load_catalog(project, "es")
    state = record_review(project, "es", catalog, "Ana Ruiz, CMI", approver(project, "ana"),
                          back_translations=honest_rows(project, note="checked with the translator, B. Coord"))
    assert state.status == "reviewed" and state.safety_open == 0
    assert all("confirmed by the coordinator" in p.message for p in state.disputed)


@pytest.mark.parametrize("fault, change", [
    ("placeholder text", lambda rows: [
        SheetRow(r.line, r.context, r.english, r.translation, "TODO" if i == 0 else r.back_translation)
        for i, r in enumerate(rows)]),
    ("the same back-translation as line", lambda rows: [
        SheetRow(r.line, r.context, r.english, r.translation, rows[0].back_translation if i == 1 else r.back_translation)
        for i, r in enumerate(rows)]),
    ("the same entry as line", lambda rows: rows + [SheetRow(99, rows[0].context, rows[0].english,
                                                             rows[0].translation, "Something else entirely here.")]),
    ("copies of the English (was the column pasted?)", lambda rows: [
        SheetRow(r.line, r.context, r.english, r.translation, r.english) for r in rows]),
])
def test_rows_that_are_not_back_translations_are_refused_and_nothing_is_written(project: Project, fault, change) -> None:
    rows = change(honest_rows(project))
    with pytest.raises(ProblemsError) as caught:
        record_review(project, "es", load_catalog(project, "es"), "Ana Ruiz, CMI", approver(project, "ana"), back_translations=rows,
                      sheet_label="es-sheet.csv")
    assert any(fault in p.message and p.path == "es-sheet.csv" for p in caught.value.problems), caught.value
    assert not back_translations_path(project, "es").exists()
    assert not review_path(project, "es").exists()


def test_a_single_copy_of_a_sentence_is_disputed_not_recorded_as_reviewed(project: Project) -> None:
    rows = with_answers(honest_rows(project), {NIGHTS: NIGHTS})
    state = record_review(project, "es", load_catalog(project, "es"), "Ana Ruiz, CMI", approver(project, "ana"), back_translations=rows)
    assert any("word for word the English" in p.message and NIGHTS in p.message for p in state.disputed)
    assert NIGHTS in {str(m.id) for m in open_safety_entries(project, "es", load_catalog(project, "es"))}


def test_the_review_keeps_a_fingerprint_per_entry_and_check_names_what_changed(project: Project) -> None:
    catalog = load_catalog(project, "es")
    record_review(project, "es", catalog, "Ana Ruiz, CMI", approver(project, "ana"))
    assert changed_since_review(project, "es", catalog) == []
    po = project.po_path("es")
    text = po.read_text("utf-8")
    assert 'msgstr "Dificultad para respirar o dolor en el pecho"' in text
    po.write_text(text.replace('msgstr "Dificultad para respirar o dolor en el pecho"',
                               'msgstr "Dificultad grave para respirar o dolor en el pecho"'), "utf-8")
    catalog = load_catalog(project, "es")
    assert review_state(project, "es", catalog).status == "stale"
    assert [str(m.id) for m in changed_since_review(project, "es", catalog)] == ["Trouble breathing or chest pain"]
    found = [p for p in check_locale(project, "es").problems if "changed since the review" in p.message]
    assert len(found) == 1 and found[0].severity == "warning" and "'Trouble breathing or chest pain'" in found[0].message
    assert "Ana Ruiz, CMI" in found[0].message


def test_false_alarm_rate_on_the_twelve_locales_back_translations() -> None:
    """Measured: the machine back-translations in the PO comments are honest; few may be disputed."""
    from handoutkit.translation.review import is_safety_critical

    project = Project(REPO)
    total = flagged = 0
    for locale in project.catalog_locales():
        for message in load_catalog(project, locale):
            if message.id and is_safety_critical(message) and PREFIX in " ".join(message.user_comments):
                total += 1
                flagged += bool(disagreements(str(message.id), comment_back_translation(message)))
    assert total >= 12 * 30
    assert flagged / total <= 0.05, f"{flagged}/{total} honest back-translations disputed"


@pytest.mark.slow
def test_the_pdf_keeps_its_draft_notice_after_a_disputed_review(project: Project) -> None:
    import subprocess

    from handoutkit.outputs.build import build, pdf_path

    rows = with_answers(honest_rows(project, note="checked, B. Coord"), HARMFUL)
    rows = [SheetRow(r.line, r.context, r.english, r.translation, r.back_translation,
                     "" if r.english in HARMFUL else r.note) for r in rows]
    state = record_review(project, "es", load_catalog(project, "es"), "Ana Ruiz, CMI", approver(project, "ana"), back_translations=rows)
    assert state.status == "pending" and state.safety_open == len(HARMFUL)
    result = build(project, locales=("es",), handout_ids=("warning-signs",), editions=("standard",),
                   progress=lambda line: None)
    assert result.ok, [str(p) for p in result.problems]
    text = subprocess.run(["pdftotext", str(pdf_path(project, "es", "warning-signs")), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "Traducción preliminar" in " ".join(text.split()), text[:500]


def test_the_cli_shows_disputed_rows_and_reads_the_coordinator_note_column(project: Project, tmp_path) -> None:
    import contextlib
    import csv
    import io

    from handoutkit.cli import main

    def run(*args: str) -> tuple[int, str]:
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            code = main(["-C", str(project.root), *args])
        return code, out.getvalue()

    sheet = tmp_path / "es-sheet.csv"
    assert run("back-translation-sheet", "es", "--output", str(sheet))[0] == 0
    rows = list(csv.reader(io.StringIO(sheet.read_text("utf-8"))))
    honest = {r.english: r.back_translation for r in honest_rows(project)}
    with sheet.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*rows[0], "coordinator_note"])
        for context, english, translation, _ in rows[1:]:
            back = HARMFUL.get(english, honest[english])
            note = "" if english in HARMFUL else "checked with the translator, B. Coord"
            writer.writerow([context, english, translation, back, note])
    code, output = run("review", "es", "--by", "Ana Ruiz, CMI", "--key", str(approver(project, "ana")),
                       "--back-translations", str(sheet))
    assert code == 0 and "Traceback" not in output
    for english in HARMFUL:
        assert any(line.startswith(f"{sheet}:") and "disagrees with the English" in line and "recorded as disputed"
                   in line and english in line for line in output.splitlines()), output
    assert f"{len(HARMFUL)} safety-critical entries have no back-translation yet; the draft notice stays" in output
    assert review_state(project, "es", load_catalog(project, "es")).safety_open == len(HARMFUL)
