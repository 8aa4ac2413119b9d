"""Meaning checks that need no reviewer: each fault of issue 21 planted in the real Spanish catalog.

The false alarms of the same checks on the 12 committed locales are measured
here too (TRANSLATING.md states the numbers): errors must stay at none.
"""

from __future__ import annotations

import pytest

from handoutkit.content.settings import Project
from handoutkit.translation.checks import check_locale
from handoutkit.translation.meaning import (
    negation_dropped,
    number_words_added,
    units_missing,
)

from .conftest import REPO, copy_repo


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return copy_repo(tmp_path_factory.mktemp("meaning"))


FAULTS = [
    # (what, old msgstr text, new text, severity, fragment, the English of the entry it is reported at)
    ("negation dropped", 'msgstr "No deje ni cambie ningún medicamento por su cuenta."',
     'msgstr "Deje o cambie cualquier medicamento por su cuenta."', "warning", "negation dropped",
     "Do not stop or change any medicine on your own."),
    ("a number changed in words", "hospital una o más noches.", "hospital dos o más noches.", "warning",
     "number in words: the translation says 2", "Many patients go home the same day."),
    ("weeks changed to days", 'plazo de 3 semanas a 3 meses. "\n"Quienes', 'plazo de 3 días a 3 meses. "\n"Quienes',
     "error", "duration or unit: the English has week", "Most people recover in 3 weeks to 3 months."),
    ("a warning sign cut short",
     'msgstr ""\n"Infección: enrojecimiento, hinchazón, calor, o fiebre de {fever_threshold} o "\n"más"',
     'msgstr "Infección: {fever_threshold}"', "error", "much shorter than its English", "Signs of infection"),
    ("a bare domain added", 'msgstr "Dolor que empeora en vez de mejorar"',
     'msgstr "Dolor que empeora en vez de mejorar (vea clinica-salud.com)"', "error",
     "web address not in the English: clinica-salud.com", "Pain that gets worse instead of better"),
]


@pytest.mark.parametrize("what, old, new, severity, fragment, english", FAULTS, ids=[f[0] for f in FAULTS])
def test_a_meaning_fault_is_found(project: Project, what, old, new, severity, fragment, english) -> None:
    po = project.po_path("es")
    committed = po.read_text("utf-8")
    assert old in committed
    po.write_text(committed.replace(old, new, 1), "utf-8")
    try:
        report = check_locale(project, "es")
        found = [p for p in report.problems if fragment in p.message]
        assert found, [str(p) for p in report.problems if p.severity == "error" or "meaning" in p.message]
        assert any(p.severity == severity and english in p.message for p in found), found
        assert all(p.line > 1 for p in found)
        if severity == "error":
            assert not report.complete, "an error blocks printing"
    finally:
        po.write_text(committed, "utf-8")


def test_swapped_signs_are_reported_when_both_are_swapped(project: Project) -> None:
    po = project.po_path("es")
    committed = po.read_text("utf-8")
    a, b = '"Un dolor de cabeza muy fuerte"', '"Dolor e hinchazón en una pantorrilla (parte de atrás de la pierna)"'
    po.write_text(committed.replace(a, "@@").replace(b, a).replace("@@", b), "utf-8")
    try:
        found = [p for p in check_locale(project, "es").errors if "warning signs swapped?" in p.message]
        assert found and any("'Pain and swelling in one calf (the back of your lower leg)'" in p.message for p in found), found
    finally:
        po.write_text(committed, "utf-8")


def test_units_swapped_and_days_for_weeks_in_every_script() -> None:
    assert "pound" in units_missing("es", "Do not lift more than 10 pounds.", "No levante más de 10 kilos.")
    assert units_missing("es", "Do not lift more than 10 pounds.", "No levante más de 10 libras.") is None
    assert "week" in units_missing("ru", "Most people recover in 3 weeks.", "Большинство поправляется за 3 дня.")
    assert units_missing("ru", "Most people recover in 3 weeks.", "Большинство поправляется за 3 недели.") is None
    # "daily life" is "повседневная жизнь" (everyday life): the natural wording is not a missing day
    assert units_missing("ru", "A faster return to daily life", "Более быстрое возвращение к повседневной жизни") is None
    assert "week" in units_missing("zh_Hans", "Most people recover in 3 weeks.", "大多数人在3天内康复。")
    assert units_missing("zh_Hans", "Most people recover in 3 weeks.", "大多数人在3周内康复。") is None
    assert "week" in units_missing("ar", "Most people recover in 3 weeks.", "يتعافى معظم الناس في 3 أيام.")
    assert negation_dropped("ru", "Do not lift heavy things.", "Поднимайте тяжёлые вещи.")
    assert negation_dropped("ru", "Do not lift heavy things.", "Не поднимайте тяжёлые вещи.") is None
    assert negation_dropped("zh_Hant", "Do not lift heavy things.", "請提重物。")
    assert number_words_added("pt", "Some stay one or more nights.", "Alguns ficam duas ou mais noites.")
    assert number_words_added("pt", "Some stay one or more nights.", "Alguns ficam uma ou mais noites.") is None


def test_false_alarms_on_the_twelve_locales() -> None:
    """Measured on the committed catalogs: no error, and the few warnings TRANSLATING.md lists."""
    project = Project(REPO)
    errors, warnings = [], []
    for locale in project.catalog_locales():
        for problem in check_locale(project, locale).problems:
            if any(k in problem.message for k in ("negation dropped", "number in words", "duration or unit",
                                                    "web address not in", "warning signs swapped",
                                                    "much shorter than its English")):
                (errors if problem.severity == "error" else warnings).append(str(problem))
    assert errors == []
    # Measured after the red flags were added (issue 22): 11 warnings, all "number in words" (for
    # example "either one" said as "either of the two"); see TRANSLATING.md.
    assert len(warnings) <= 11, warnings
