"""Checks: each finding is located at the PO file and line; the repository's own locales pass."""

from __future__ import annotations

from babel.messages.catalog import Message

from handoutkit.content.settings import Project
from handoutkit.translation.checks import (
    check_emphasis,
    check_locale,
    check_numbers,
    check_placeholders,
    check_project,
)


def test_complete_locale_passes(sample: Project) -> None:
    report = check_locale(sample, "es")
    assert report.complete, report.problems
    assert report.translated == report.total == 41


def test_broken_locale_findings_have_lines(sample: Project) -> None:
    report = check_locale(sample, "de")
    assert not report.complete
    found = {(p.line, p.message.split(":")[0]) for p in report.errors}
    assert (20, "untranslated") in found
    assert (56, "fuzzy (needs review, not printed)") in found
    assert (30, "placeholder mismatch") in found
    assert (64, "numbers differ") in found
    # The strings the content prints that the file lacks are located where the content prints them.
    assert all(p.path == "locales/de/LC_MESSAGES/handouts.po" or p.path.startswith("templates/") and
               "no translation in locales/de/LC_MESSAGES/handouts.po" in p.message for p in report.errors)
    assert report.fuzzy == 1 and report.untranslated == 11 + 9 + 14  # 9 template and 14 picture strings it lacks


def test_blanking_one_msgstr_fails_the_check_at_that_line(sample: Project) -> None:
    path = sample.po_path("es")
    text = path.read_text()
    path.write_text(text.replace('msgstr "Levántese despacio."', 'msgstr ""'))
    line = next(i for i, l in enumerate(path.read_text().splitlines(), 1) if l == 'msgid "Stand up slowly."')
    report = check_locale(sample, "es")
    assert [str(p) for p in report.errors] == [
        f"locales/es/LC_MESSAGES/handouts.po:{line}: untranslated: 'Stand up slowly.'"]


def test_python_format_mismatch_is_found_by_msgfmt(sample: Project) -> None:
    path = sample.po_path("es")
    path.write_text(path.read_text().replace("Página %(page)s de %(pages)s", "Página %(pagina)s de %(pages)s"))
    report = check_locale(sample, "es")
    assert any("argument 'page'" in p.message for p in report.errors), report.errors


def entry(source: str, target: str) -> Message:
    return Message(source, target)


def test_placeholder_check() -> None:
    assert check_placeholders(entry("Call {clinic_phone}.", "Llame al {clinic_phone}.")) == []
    assert check_placeholders(entry("Call {clinic_phone}.", "Llame al 555."))
    assert check_placeholders(entry("Call %(phone)s.", "Llame al %(telefono)s."))


def test_numbers_check() -> None:
    assert check_numbers(entry("In 3 weeks to 3 months.", "En 3 semanas a 3 meses.")) == []
    assert check_numbers(entry("In 3 weeks to 3 months.", "En 3 semanas a 6 meses."))
    assert check_numbers(entry("In 3 weeks.", "في ٣ أسابيع."))  # other digits are refused
    assert check_numbers(entry("Call {clinic_phone}.", "Llame al {clinic_phone}.")) == []


def test_emphasis_check() -> None:
    assert check_emphasis(entry("Walk **slowly**.", "Camine **despacio**.")) == []
    assert check_emphasis(entry("Walk **slowly**.", "Camine **despacio."))
    assert check_emphasis(entry("Walk **slowly**.", "Camine despacio."))


def test_repository_locales_are_complete(repo: Project) -> None:
    """The CI gate: an incomplete or broken locale in the repository fails `make test`."""
    reports = check_project(repo)
    assert reports, "no translated locales published"
    problems = [str(p) for r in reports for p in r.errors]
    assert problems == []
