"""Clinical approval: nothing on paper claims a review that did not happen."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from handoutkit.content.approval import (
    APPROVED,
    CHANGED,
    DRAFT,
    OVERDUE,
    approval_state,
    fingerprint,
    read_approval,
    record_approval,
)
from handoutkit.content.handouts import load_content
from handoutkit.content.lint import lint
from handoutkit.content.settings import Project
from handoutkit.outputs.build import build, pdf_path
from handoutkit.outputs.catalog_page import render_catalog

from .conftest import run_cli
from .signing import approver


MARK = {"en": "DRAFT — not yet approved by a clinician", "es": "BORRADOR — todavía no aprobado por un médico"}
QUIET = dict(locales=("en", "es"), workers=1, progress=lambda line: None)


def pages(path: Path) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(path.read_bytes())).pages]


def walking(project: Project):
    return load_content(project.handouts_dir, project.root).get("walking")


def pdfs(project: Project) -> list[tuple[str, Path]]:
    return [(locale, pdf_path(project, locale, "walking", edition))
            for locale in ("en", "es") for edition in ("standard", "large")]


@pytest.mark.slow  # renders PDFs to read their marks
def test_unapproved_pdfs_carry_the_mark_on_every_page_and_no_review_date(built_sample: Project) -> None:
    for locale, path in pdfs(built_sample):
        texts = pages(path)
        assert len(texts) >= 1
        for number, text in enumerate(texts, 1):
            assert MARK[locale] in text, f"{path.name} ({locale}) page {number} has no draft mark"
        assert "Last reviewed" not in " ".join(texts) and "Última revisión" not in " ".join(texts)
        info = PdfReader(path).trailer["/Info"].get_object()
        assert "/CreationDate" not in info and "/ModDate" not in info, f"{path}: a date on an unapproved PDF"


@pytest.mark.slow  # renders PDFs to read their marks
def test_approve_removes_the_mark_and_a_changed_sentence_brings_it_back(sample: Project) -> None:
    build(sample, **QUIET)
    record_approval(sample, walking(sample), "Jane Doe, MD", approver(sample), today=dt.date(2026, 12, 1))
    result = build(sample, **QUIET)
    assert {o.locale for o in result.outputs} == {"en", "es"}, "approving must render the PDFs again"
    for locale, path in pdfs(sample):
        text = " ".join(pages(path))
        assert MARK[locale] not in text, f"{locale}: still marked draft after approval"
    assert "Last reviewed: December 1, 2026 by Jane Doe, MD" in " ".join(pages(pdf_path(sample, "en", "walking")))
    assert "Última revisión: 1 de diciembre de 2026, por Jane Doe, MD" in \
        " ".join(pages(pdf_path(sample, "es", "walking")))

    source = sample.handouts_dir / "walking.yaml"
    source.write_text(source.read_text().replace("Rest when you are tired.", "Rest when you feel tired."))
    build(sample, locales=("en",), workers=1, progress=lambda line: None)
    texts = pages(pdf_path(sample, "en", "walking"))
    assert all(MARK["en"] in text for text in texts), "a changed sentence must bring the mark back"
    assert "Last reviewed" not in " ".join(texts)


@pytest.mark.slow  # renders PDFs to read their marks
def test_a_changed_clinic_phone_is_no_longer_the_approved_handout(sample: Project) -> None:
    record_approval(sample, walking(sample), "Jane Doe, MD", approver(sample))
    build(sample, **QUIET)
    assert MARK["es"] not in " ".join(pages(pdf_path(sample, "es", "walking")))
    clinic = sample.handouts_dir / "clinic.yaml"
    clinic.write_text(clinic.read_text().replace("(555) 010-0199", "(555) 010-0111"))
    changed = Project(sample.root)  # settings are read once per project object
    build(changed, **QUIET)
    for locale, path in pdfs(changed):
        assert all(MARK[locale] in text for text in pages(path)), f"{locale}: phone changed, still approved"


def test_approval_states_and_expiry(sample: Project) -> None:
    handout, clinic = walking(sample), sample.settings.clinic
    assert approval_state(handout, clinic, None, 3).status == DRAFT
    approval = record_approval(sample, handout, "Jane Doe, MD", approver(sample), today=dt.date(2023, 3, 1))
    assert read_approval(sample, "walking") == approval
    assert approval_state(handout, clinic, approval, 3, today=dt.date(2026, 2, 28)).status == APPROVED
    overdue = approval_state(handout, clinic, approval, 3, today=dt.date(2026, 3, 1))
    assert overdue.status == OVERDUE and overdue.due == dt.date(2026, 3, 1)
    assert approval_state(handout, clinic, approval, 5, today=dt.date(2026, 3, 1)).status == APPROVED
    other = type(clinic)(clinic.name, "(555) 010-0000", clinic.emergency_number)
    assert fingerprint(handout, other) != fingerprint(handout, clinic)
    assert approval_state(handout, other, approval, 3).status == CHANGED


@pytest.mark.slow  # renders PDFs to read their marks
def test_lint_fails_on_an_expired_approval_and_the_catalog_says_overdue(sample: Project) -> None:
    content = load_content(sample.handouts_dir, sample.root)
    report = lint(sample, {}, today=dt.date(2026, 12, 1))
    [unapproved] = [p for p in report.problems if "not approved by a clinician" in p.message]
    assert unapproved.severity == "warning" and unapproved.path == "handouts/walking.yaml"
    assert "Review overdue" not in render_catalog(sample, content)
    assert "DRAFT: not approved by a clinician" in render_catalog(sample, content)

    record_approval(sample, walking(sample), "Jane Doe, MD", approver(sample), today=dt.date(2020, 1, 15))
    report = lint(sample, {}, today=dt.date(2026, 12, 1))
    [expired] = [p for p in report.errors if "expired" in p.message]
    assert "expired on 2023-01-15" in expired.message and expired.path == "handouts/walking.yaml"
    html = render_catalog(sample, content)
    assert "Review overdue" in html and "Approved by" not in html


@pytest.mark.slow  # renders PDFs to read their marks
def test_catalog_tells_the_four_states_apart_in_words(sample: Project) -> None:
    build(sample, **QUIET)
    content = load_content(sample.handouts_dir, sample.root)
    draft = render_catalog(sample, content)
    assert "DRAFT: not approved by a clinician" in draft and "Draft translation, not reviewed" in draft
    assert "Approved by" not in draft and "Reviewed translation" not in draft
    record_approval(sample, walking(sample), "Jane Doe, MD", approver(sample), today=dt.date.today())
    approved = render_catalog(sample, content)
    assert f"Approved by Jane Doe, MD, {dt.date.today().isoformat()}" in approved
    assert "DRAFT: not approved by a clinician" not in approved


def test_approve_command_records_and_refuses_bad_input(sample: Project) -> None:
    unknown = run_cli(sample, "approve", "nope", "--by", "Jane Doe, MD", "--key", "k")
    assert unknown.returncode == 1 and "no handout with id 'nope'" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    blank = run_cli(sample, "approve", "walking", "--by", "  ", "--key", "k")
    assert blank.returncode == 1 and "--by needs" in blank.stderr and "Traceback" not in blank.stderr
    done = run_cli(sample, "approve", "walking", "--by", "Jane Doe, MD", "--key", str(approver(sample)))
    assert done.returncode == 0, done.stderr
    assert read_approval(sample, "walking").approved_by == "Jane Doe, MD"


def test_flagged_statements_need_the_clinician_to_confirm_them(sample: Project) -> None:
    source = sample.handouts_dir / "walking.yaml"
    source.write_text(source.read_text().replace("- Rest when you are tired.",
                                                 "- {text: Rest when you are tired., confirm: true}"))
    refused = run_cli(sample, "approve", "walking", "--by", "Jane Doe, MD", "--key", "k")
    assert refused.returncode == 1 and "no source, please confirm: 'Rest when you are tired.'" in refused.stderr
    assert read_approval(sample, "walking") is None
    done = run_cli(sample, "approve", "walking", "--by", "Jane Doe, MD", "--key", str(approver(sample)),
               "--confirm-flagged")
    assert done.returncode == 0, done.stderr


@pytest.mark.slow  # renders PDFs to read their marks
def test_a_damaged_approval_record_is_a_clean_error(sample: Project) -> None:
    path = sample.handouts_dir / "approvals" / "walking.yaml"
    path.parent.mkdir()
    path.write_text("approved_by: Jane Doe\napproved_on: someday\ncontent_sha256: abc\n")
    result = run_cli(sample, "build", "--locale", "en")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "handouts/approvals/walking.yaml:1: expected approved_on as a date" in result.stderr


@pytest.mark.parametrize("text", ["revision: {number: 1, reviewed: 2026-11-20}"])
def test_a_review_date_typed_in_the_yaml_is_refused(sample: Project, text: str) -> None:
    source = sample.handouts_dir / "walking.yaml"
    source.write_text(source.read_text().replace("revision:\n  number: 2", text))
    result = run_cli(sample, "lint")
    assert result.returncode == 1 and "handouts/walking.yaml:4: a review date is not written here" in result.stderr
