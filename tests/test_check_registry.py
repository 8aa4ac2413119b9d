"""One check shape, one registry: every check is a Check, and each runner takes its scope from CHECKS."""

from __future__ import annotations

import pytest

from handoutkit.content.checking import SCOPES, Check
from handoutkit.content.lint import LINT_CHECKS, lint
from handoutkit.content.settings import Project
from handoutkit.errors import Problem
from handoutkit.translation import checks
from handoutkit.translation.checks import CHECKS, check_locale


def test_every_check_has_the_one_shape_and_a_name_of_its_own() -> None:
    assert all(isinstance(check, Check) for check in CHECKS)
    assert {check.scope for check in CHECKS} == set(SCOPES)
    assert all(check.severity in ("error", "warning") for check in CHECKS)
    names = [check.name for check in CHECKS]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    assert set(LINT_CHECKS) <= set(CHECKS), "lint's checks are registered in the one registry"


def test_a_scope_that_does_not_exist_is_refused() -> None:
    with pytest.raises(ValueError, match="scope 'entries'"):
        Check("typo", "error", "entries", lambda context: [])


def test_an_entry_check_added_to_the_registry_runs_on_every_translated_entry(
        sample: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    flag = checks.on_entry("shouting", "warning",
                           lambda message, rules: ["all capitals"] if str(message.string).isupper() else [])
    monkeypatch.setattr(checks, "CHECKS", (*checks.CHECKS, flag))
    path = sample.po_path("es")
    path.write_text(path.read_text("utf-8").replace('msgstr "Levántese despacio."', 'msgstr "LEVÁNTESE DESPACIO."'),
                    "utf-8")
    found = [p for p in check_locale(sample, "es").problems if "all capitals" in p.message]
    assert [(p.message, p.severity) for p in found] == [("all capitals: 'Stand up slowly.'", "warning")]
    assert check_locale(sample, "es").complete, "a warning does not block printing"


def test_a_file_check_added_to_the_registry_blocks_the_locale(sample: Project,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    assert check_locale(sample, "es").complete
    refuse = Check("refuse", "error", "file", lambda c: [Problem(c.label, 1, f"refused {c.locale}")])
    monkeypatch.setattr(checks, "CHECKS", (*checks.CHECKS, refuse))
    report = check_locale(sample, "es")
    assert not report.complete and [p.message for p in report.errors] == ["refused es"]


def test_lint_runs_the_handout_and_library_checks_of_the_registry_it_is_given(sample: Project) -> None:
    seen: list[str] = []
    stub = Check("stub", "warning", "handout",
                 lambda c: seen.append(c.handout.id) or [Problem(c.handout.path, 1, "stub", "warning")])
    whole = Check("whole", "error", "library", lambda library: [Problem("handouts", 0, "whole library")])
    report = lint(sample, {}, checks=(*CHECKS, stub, whole))
    handouts = sorted(seen)
    assert handouts and len(handouts) == len(set(handouts)), "once per handout"
    assert sum(p.message == "stub" for p in report.problems) == len(handouts)
    assert [p.message for p in report.errors if p.path == "handouts"] == ["whole library"]
    without = lint(sample, {}, checks=())
    assert not without.problems, "no check, no finding: the registry is what runs"
