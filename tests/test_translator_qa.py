"""Translator QA: a table of broken PO files, each giving its expected finding at its line.

Every fixture in tests/data/broken-po/ is the sample's Spanish catalog with one
fault, named after it. On syntax faults our check must agree with GNU
`msgfmt --check`, the reference implementation of the format.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from handoutkit.content.settings import Project
from handoutkit.translation.catalogs import load_catalog
from handoutkit.translation.checks import check_glossary, check_locale, load_glossary

BROKEN = Path(__file__).parent / "data" / "broken-po"
PO = "locales/es/LC_MESSAGES/handouts.po"
YAML = "handouts/walking.yaml"

# fixture -> (line, severity, fragment of the message)
EXPECTED = {
    "untranslated": (19, "error", "untranslated: 'When to call'"),
    "fuzzy": (57, "error", "fuzzy (needs review, not printed): 'Rest when you are tired.'"),
    "missing-brace-placeholder": (31, "error", "placeholder mismatch: missing clinic_phone"),
    "renamed-python-placeholder": (88, "error", "placeholder mismatch: missing phone; unknown telefono"),
    "changed-number": (64, "error", "numbers differ: English has none, translation has [10]"),
    "unbalanced-bold": (48, "error", "unbalanced ** emphasis marker"),
    "missing-bold": (48, "error", "emphasis differs"),
    "unterminated-string": (44, "error", "msgfmt: end-of-line within string"),
    "bad-escape": (44, "error", "msgfmt: invalid control sequence"),
    "duplicate-msgid": (97, "error", "msgfmt: duplicate message definition"),
    "unknown-keyword": (44, "error", 'msgfmt: keyword "msgstrr" unknown'),
    # Without a plural entry a Plural-Forms that differs from CLDR is harmless (GNU msginit writes one).
    "wrong-nplurals": (1, "warning", "header Plural-Forms has nplurals=2; es needs nplurals=3"),
    "wrong-language": (1, "error", "header Language is 'de', expected 'es'"),
    "latin1-bytes": (20, "error", "expected UTF-8 text, found byte 0xe1"),
    "stale-entry": (98, "warning", "stale entry, no longer in the content"),
    "obsolete-entry": (97, "warning", "obsolete entry kept for reference"),
    "leading-whitespace": (19, "warning", "startwhitespace"),
    "trailing-whitespace": (19, "warning", "endwhitespace"),
    "double-space": (56, "warning", "doublespacing"),
    "unchanged": (43, "warning", "unchanged: Consider translating: 'Why walk'"),
    "too-long": (43, "warning", "long: The translation is much longer than the original"),
    "html-markup": (60, "error", "xmltags: Added XML tags"),
    "newline-added": (61, "error", "msgfmt: 'msgid' and 'msgstr' entries do not both end with"),
    "url-added": (60, "error", "urls: Different URLs"),
    # A string the content prints and the file lacks is located where the content prints it.
    "missing-entry": (14, "error", "no translation in locales/es/LC_MESSAGES/handouts.po (the English changed "
                                  "or is new, and would print in English): 'Rest when you are tired.'"),
    "bidi-override": (52, "error", "U+202E RIGHT-TO-LEFT OVERRIDE"),
    "zero-width-space": (56, "error", "U+200B ZERO WIDTH SPACE"),
    "html-entity": (60, "error", "HTML entity &nbsp; would be printed as typed"),
    "unbalanced-brace": (31, "error", "unbalanced { or }"),
    "native-digit": (74, "error", "digits ٣ are not allowed here: write numbers with 0-9"),
    "byte-order-mark": (1, "error", "byte-order mark (BOM)"),
    "three-times-longer": (39, "warning", "as long as the English: is it the translation of this entry?"),
}
SYNTAX_FAULTS = ("unterminated-string", "bad-escape", "duplicate-msgid", "unknown-keyword")


def test_every_fixture_has_an_expectation() -> None:
    assert sorted(p.stem for p in BROKEN.glob("*.po")) == sorted(EXPECTED)
    assert len(EXPECTED) >= 20


def with_catalog(sample: Project, fixture: str) -> Project:
    shutil.copy(BROKEN / f"{fixture}.po", sample.po_path("es"))
    return sample


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
def test_broken_catalog_gives_its_finding(fixture: str, sample: Project) -> None:
    line, severity, fragment = EXPECTED[fixture]
    report = check_locale(with_catalog(sample, fixture), "es")
    found = [(p.line, p.severity, p.message) for p in report.problems]
    assert any(l == line and s == severity and fragment in m for l, s, m in found), found
    assert all(p.path == (YAML if fixture == "missing-entry" and p.line == line else PO) for p in report.problems)
    assert report.complete == (severity == "warning"), "warnings alone never block printing"


def msgfmt_errors(path: Path) -> set[int]:
    run = subprocess.run(["msgfmt", "--check", "-o", "/dev/null", str(path)], capture_output=True, text=True,
                         env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"})
    return {int(m[1]) for m in re.finditer(r"^[^:]+:(\d+):(?:\d+:)? (?!warning)", run.stderr, re.M)}


@pytest.mark.parametrize("fixture", SYNTAX_FAULTS)
def test_syntax_faults_agree_with_msgfmt(fixture: str, sample: Project) -> None:
    theirs = msgfmt_errors(BROKEN / f"{fixture}.po")
    assert theirs, "msgfmt --check should reject this fixture"
    ours = {p.line for p in check_locale(with_catalog(sample, fixture), "es").errors}
    # msgfmt reports an unterminated string on the line after it; we point at the string itself.
    assert all(line in ours or line - 1 in ours for line in theirs), (theirs, ours)


def test_numbers_compare_by_value_in_native_digits_only_where_opted_in() -> None:
    from babel.messages.catalog import Message

    from handoutkit.translation.checks import EntryRules, check_numbers, native_digits

    arabic, persian = native_digits("ar"), native_digits("fa")
    assert arabic == "٠١٢٣٤٥٦٧٨٩" and persian == "۰۱۲۳۴۵۶۷۸۹" and native_digits("es") == ""
    english = "Most people recover in 3 weeks to 3 months."
    native = Message(english, "يتعافى معظم الناس في ٣ أسابيع إلى ٣ أشهر.")
    wrong = Message(english, "يتعافى معظم الناس في ٨ أسابيع إلى ٣ أشهر.")
    ascii_ok = Message(english, "يتعافى معظم الناس في 3 أسابيع إلى 3 أشهر.")
    assert check_numbers(native, EntryRules(arabic)) == []
    assert check_numbers(ascii_ok, EntryRules(arabic)) == []
    assert "numbers differ" in check_numbers(wrong, EntryRules(arabic))[0]
    assert "not allowed" in check_numbers(native, EntryRules())[0]
    assert "not allowed" in check_numbers(Message(english, "... ۳ ... ۳"), EntryRules(arabic))[0]


def test_native_digits_setting_reaches_the_check(sample: Project) -> None:
    clinic = sample.handouts_dir / "clinic.yaml"
    po = sample.po_path("es")
    po.write_text(po.read_text("utf-8").replace('msgstr "Revisión %(number)s"', 'msgstr "Revisión %(number)s"'))
    shutil.copy(BROKEN / "native-digit.po", po)
    assert not check_locale(sample, "es").complete
    clinic.write_text(clinic.read_text("utf-8") + "\nnative_digits: [es]\n", "utf-8")
    sample.__dict__.pop("settings", None)
    # es has no native digits in CLDR, so opting in allows nothing more.
    assert not check_locale(sample, "es").complete


def test_native_digits_opt_in_allows_the_locales_own_digits(tmp_path: Path) -> None:
    """Persian digits in a Persian translation: refused by default, accepted once the clinic opts in."""
    from .conftest import copy_repo

    project = copy_repo(tmp_path)
    po = project.po_path("fa")
    text = po.read_text("utf-8")
    assert "در 3 هفته تا 3 ماه" in text
    po.write_text(text.replace("در 3 هفته تا 3 ماه", "در ۳ هفته تا ۳ ماه"), "utf-8")
    refused = [p.message for p in check_locale(project, "fa").errors]
    assert any("not allowed" in message for message in refused), refused
    clinic = project.handouts_dir / "clinic.yaml"
    clinic.write_text(clinic.read_text("utf-8") + "\nnative_digits: [fa]\n", "utf-8")
    project.__dict__.pop("settings", None)
    accepted = [p.message for p in check_locale(project, "fa").errors]
    assert not any("not allowed" in message for message in accepted), accepted


def test_joiners_inside_a_word_are_spelling(sample: Project) -> None:
    from babel.messages.catalog import Message

    from handoutkit.translation.checks import EntryRules, check_invisible

    persian = Message("Walk soon after surgery.", "بعد از جراحی زود راه بروید. می\u200cتوانید")
    nepali = Message("Have someone drive you home.", "पुर्\u200dयाउन")
    stray = Message("Walk soon after surgery.", "\u200cبعد از جراحی")
    assert check_invisible(persian, EntryRules()) == []
    assert check_invisible(nepali, EntryRules()) == []
    assert "U+200C" in check_invisible(stray, EntryRules())[0]


def test_clean_catalog_passes_msgfmt_and_our_check(sample: Project) -> None:
    assert msgfmt_errors(sample.po_path("es")) == set()
    assert check_locale(sample, "es").problems == []


def test_glossary_requires_the_agreed_term(sample: Project) -> None:
    (sample.locales_dir / "es" / "glossary.yaml").write_text(
        "terms:\n  walk: camine\n  surgery: [cirugía, operación]\n", "utf-8")
    glossary = load_glossary(sample, "es")
    assert glossary == {"walk": ("camine",), "surgery": ("cirugía", "operación")}
    problems = check_glossary(load_catalog(sample, "es"), glossary, PO)
    # "Why walk" is translated "Por qué caminar": 'camine' is not there.
    assert [(p.line, p.message.split(":")[0]) for p in problems] == [(48, "glossary")]
    assert "'walk' must be translated as 'camine'" in problems[0].message


def test_repository_glossary_is_respected(repo: Project) -> None:
    glossary = load_glossary(repo, "es")
    assert glossary, "locales/es/glossary.yaml is expected"
    assert check_glossary(load_catalog(repo, "es"), glossary, PO) == []
