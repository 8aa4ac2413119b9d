"""Safety-critical lines: marked in the POT and every PO, back-translated entry by entry."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from handoutkit.cli import main
from handoutkit.content.handouts import SAFETY_MARK, load_content, statements
from handoutkit.content.settings import Project
from handoutkit.errors import ProblemsError
from handoutkit.outputs.build import build, pdf_path
from handoutkit.translation.catalogs import load_catalog, read_template, serialize_po
from handoutkit.translation.review import (
    SheetRow,
    back_translation_sheet,
    is_safety_critical,
    open_safety_entries,
    record_review,
    review_state,
)

from .conftest import REPO
from .signing import approver


EMERGENCY = "Call {emergency_number} right away if you have trouble breathing."
OTHER = "For other questions, call {clinic_phone}."
NOTICE = "Traducción preliminar"
# The footer lines of every handout (templates/handout.html) are safety-critical too.
BACK = {EMERGENCY: "Call 911 right away if you have trouble breathing.",
        OTHER: "For other questions, call the clinic.",
        "Questions? Call %(phone)s.": "Questions? Call (phone).",
        "In an emergency, call %(number)s.": "In an emergency, call (number).",
        # The triage picture's labels and description (templates/pictures/triage.html) are too.
        "Emergency": "Emergency", "Call %(number)s": "Call 911", "Surgeon's office": "Surgeon's office",
        "Two boxes. For an emergency, call %(emergency)s. For the surgeon's office, call %(office)s. "
        "The lists below say which signs go with each number.":
            "Two boxes. In an emergency, call (number). For the surgeon's office, call (number). "
            "The lists below say which signs go with each number."}


# The sample's POT predates the front-desk labels; `update` brings them in untranslated.
LABELS = {"Your details": "Sus datos", "Patient": "Paciente", "Procedure date": "Fecha del procedimiento",
          "Arrival time": "Hora de llegada", "Surgeon": "Cirujano",
          "Instructions from your care team": "Instrucciones de su equipo médico",
          "Language assistance is available at no cost. Call %(phone)s.":
              "Hay ayuda con el idioma sin costo para usted. Llame al %(phone)s.",
          "Read it online:": "Léalo en internet:", "Key points": "Puntos importantes"}
# The pictures' labels and descriptions (templates/pictures/), as the repository's es catalog has them:
# msgmerge may guess some of them from similar entries ("Call %(number)s" from "Revision %(number)s").
with (REPO / "locales" / "es" / "LC_MESSAGES" / "handouts.po").open("rb") as _po:
    LABELS.update({str(m.id): str(m.string) for m in read_po(_po)
                   if m.id and any(f.startswith("templates/pictures/") for f, _ in m.locations)})


def translate_missing(project: Project) -> None:
    catalog = load_catalog(project, "es")
    for message in catalog:
        if message.id and (not message.string or message.fuzzy) and str(message.id) in LABELS:
            message.string = LABELS[str(message.id)]
            message.flags.discard("fuzzy")
            message.previous_id = []
    project.po_path("es").write_bytes(serialize_po(catalog))


@pytest.fixture
def marked(sample: Project) -> Project:
    """The sample with its call-us callout marked safety-critical, merged into the POT and the es catalog."""
    shared = sample.handouts_dir / "shared.yaml"
    shared.write_text(shared.read_text().replace("kind: warning\n", "kind: warning\n          safety: true\n"))
    assert main(["-C", str(sample.root), "update", "--locale", "es"]) == 0
    translate_missing(sample)
    return sample


def quiet_build(project: Project) -> None:
    result = build(project, locales=("es",), workers=1, editions=("standard",), progress=lambda line: None)
    assert result.ok, [str(p) for p in result.problems]


def pdf_has_notice(project: Project) -> bool:
    text = subprocess.run(["pdftotext", str(pdf_path(project, "es", "walking")), "-"], capture_output=True,
                          text=True, check=True).stdout
    return NOTICE in text


def filled_sheet(project: Project, answers: dict[str, str]) -> list[SheetRow]:
    data, _ = back_translation_sheet(project, "es", load_catalog(project, "es"))
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    return [SheetRow(number, context or None, english, translation, answers[english])
            for number, (context, english, translation, _) in enumerate(rows[1:], 2) if english in answers]


def test_marked_lines_carry_the_comment_into_the_pot_and_the_po(marked: Project) -> None:
    template = {str(m.id): m for m in read_template(marked) if m.id}
    catalog = {str(m.id): m for m in load_catalog(marked, "es") if m.id}
    for msgid in (EMERGENCY, OTHER):
        assert is_safety_critical(template[msgid]) and is_safety_critical(catalog[msgid]), msgid
    assert not is_safety_critical(catalog["Walk soon after surgery."])
    po_text = marked.po_path("es").read_text("utf-8")
    assert f"#. {SAFETY_MARK}:" in po_text  # what Poedit and Weblate show as the extracted comment


@pytest.mark.slow  # renders PDFs to read the notice
def test_notice_stays_until_every_safety_entry_is_back_translated(marked: Project) -> None:
    quiet_build(marked)
    assert pdf_has_notice(marked)

    catalog = load_catalog(marked, "es")
    state = record_review(marked, "es", catalog, "Ana Ruiz, CMI", approver(marked, "ana"))  # no back-translations yet
    assert state.status == "pending" and state.safety_open == len(BACK)
    quiet_build(marked)
    assert pdf_has_notice(marked), "a review without back-translations must keep the notice"

    state = record_review(marked, "es", catalog, "Ana Ruiz, CMI", approver(marked, "ana"),
                          back_translations=filled_sheet(marked, {EMERGENCY: BACK[EMERGENCY]}))
    assert state.status == "pending" and state.safety_open == len(BACK) - 1
    state = record_review(marked, "es", catalog, "Ana Ruiz, CMI", approver(marked, "ana"),
                          back_translations=filled_sheet(marked, {k: v for k, v in BACK.items() if k != EMERGENCY}))
    assert state.status == "reviewed" and state.safety_open == 0
    quiet_build(marked)
    assert not pdf_has_notice(marked)
    record = (marked.locales_dir / "es" / "back-translations.yaml").read_text("utf-8")
    assert "Call 911 right away if you have trouble breathing." in record and "Ana Ruiz, CMI" in record


@pytest.mark.slow  # renders PDFs to read the notice
def test_a_changed_safety_line_reopens_only_that_line(marked: Project) -> None:
    catalog = load_catalog(marked, "es")
    record_review(marked, "es", catalog, "Ana Ruiz, CMI", approver(marked, "ana"), back_translations=filled_sheet(marked, BACK))
    assert open_safety_entries(marked, "es", load_catalog(marked, "es")) == []

    po = marked.po_path("es")
    po.write_text(po.read_text("utf-8").replace("Para otras preguntas, llame al {clinic_phone}.",
                                                "Si tiene otras preguntas, llame al {clinic_phone}."), "utf-8")
    changed = load_catalog(marked, "es")
    assert [str(m.id) for m in open_safety_entries(marked, "es", changed)] == [OTHER]
    assert review_state(marked, "es", changed).status == "stale"
    quiet_build(marked)
    assert pdf_has_notice(marked)

    # The English of the other line changes: only that line opens (the first stays closed by its record).
    shared = marked.handouts_dir / "shared.yaml"
    shared.write_text(shared.read_text().replace("if you have trouble breathing.", "if you cannot breathe well."))
    assert main(["-C", str(marked.root), "update", "--locale", "es"]) == 0
    reopened = {str(m.id) for m in open_safety_entries(marked, "es", load_catalog(marked, "es", strict=False))}
    assert reopened == {"Call {emergency_number} right away if you cannot breathe well.", OTHER}


def test_a_sheet_row_whose_translation_changed_is_refused_with_its_line(marked: Project) -> None:
    rows = filled_sheet(marked, BACK)
    stale = [SheetRow(rows[0].line, rows[0].context, rows[0].english, "otra cosa", rows[0].back_translation)]
    with pytest.raises(ProblemsError) as caught:
        record_review(marked, "es", load_catalog(marked, "es"), "Ana Ruiz, CMI", approver(marked, "ana"), back_translations=stale,
                      sheet_label="es.csv")
    assert str(caught.value.problems[0]).startswith(f"es.csv:{rows[0].line}: the translation changed")
    assert not (marked.locales_dir / "es" / "back-translations.yaml").exists(), "nothing written on a problem"


def run(project: Project, *args: str) -> subprocess.CompletedProcess:
    handouts = Path(sys.executable).with_name("handouts")
    return subprocess.run([str(handouts), *args], cwd=project.root, capture_output=True, text=True)


@pytest.mark.slow  # the console script in its own process, five times
def test_sheet_and_review_commands_and_the_check_report(marked: Project, tmp_path: Path) -> None:
    check = run(marked, "check", "--locale", "es")
    assert "es: complete" in check.stderr and f"{len(BACK)} safety-critical entries not back-translated" in check.stderr
    sheet = tmp_path / "es.csv"
    written = run(marked, "back-translation-sheet", "es", "--output", str(sheet))
    assert written.returncode == 0 and f"{len(BACK)} safety-critical entries" in written.stdout, written.stderr
    rows = list(csv.reader(io.StringIO(sheet.read_text("utf-8"))))
    assert rows[0] == ["context", "english", "translation", "back_translation"]
    assert {r[1] for r in rows[1:]} == set(BACK) and all(r[3] == "" for r in rows[1:])
    assert any(r[2].startswith("Llame al {emergency_number} de inmediato") for r in rows[1:])

    for row in rows[1:]:
        row[3] = BACK[row[1]]
    with sheet.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    reviewed = run(marked, "review", "es", "--by", "Ana Ruiz, CMI", "--key", str(approver(marked, "ana")), "--back-translations", str(sheet))
    assert reviewed.returncode == 0, reviewed.stderr
    assert "every safety-critical entry back-translated" in reviewed.stdout
    assert "safety-critical entries all back-translated" in run(marked, "check", "--locale", "es").stderr

    broken = tmp_path / "broken.csv"
    broken.write_text("english,translation\n")
    refused = run(marked, "review", "es", "--by", "Ana Ruiz, CMI", "--key", str(approver(marked, "ana")), "--back-translations", str(broken))
    assert refused.returncode == 1 and "broken.csv:1: expected the columns" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_stats_report_unreviewed_safety_entries(marked: Project) -> None:
    from handoutkit.outputs.stats import locale_stats

    assert locale_stats(marked, "es").safety_unreviewed == len(BACK)
    assert locale_stats(marked, "en").safety_unreviewed == 0


# ---------------------------------------------------------------- the repository


def test_every_repository_po_marks_its_safety_critical_entries(repo: Project) -> None:
    content = load_content(repo.handouts_dir, repo.root)
    marked = {(t.context, t.value) for h in content.handouts for t in (h.summary, *statements(h.sections))
              if t.safety}
    assert len(marked) >= 20, "warning signs, whom to call, medicines, smoking and the ride home"
    template = {(m.context, str(m.id)) for m in read_template(repo) if m.id and is_safety_critical(m)}
    assert marked <= template
    for locale in repo.settings.translated_locales:
        catalog = load_catalog(repo, locale)
        in_po = {(m.context, str(m.id)) for m in catalog if m.id and is_safety_critical(m)}
        assert in_po == template, f"{locale}: safety marks differ from the POT; run `handouts update`"


def test_repository_translations_keep_the_notice_until_back_translated(repo: Project) -> None:
    for locale in repo.settings.translated_locales:
        state = review_state(repo, locale, load_catalog(repo, locale))
        assert state.status != "reviewed" or state.safety_open == 0, locale
        assert state.safety_open > 0, f"{locale}: no back-translation has been recorded, the count must show it"
