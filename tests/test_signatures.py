"""Signed approvals and reviews: only a key listed in handouts/approvers makes a record count."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from handoutkit.content.approval import (
    APPROVED,
    DRAFT,
    approval_state,
    read_approval,
    record_approval,
)
from handoutkit.content.handouts import load_content
from handoutkit.content.lint import lint
from handoutkit.content.settings import Project
from handoutkit.content.signatures import (
    APPROVAL_NAMESPACE,
    review_namespace,
    sign,
    verify,
)
from handoutkit.errors import HandoutError
from handoutkit.outputs.build import build, pdf_path
from handoutkit.translation.catalogs import load_catalog
from handoutkit.translation.review import record_review, review_state

from .conftest import run_cli
from .pdftext import pdf_text
from .signing import allow, approver, new_key

DRAFT_MARK = "DRAFT — not yet approved by a clinician"


def walking(project: Project):
    return load_content(project.handouts_dir, project.root).get("walking")


def state(project: Project):
    settings = project.settings
    return approval_state(walking(project), settings.clinic, read_approval(project, "walking"),
                          settings.review_interval_years)


def test_sign_and_verify_against_the_allowed_signers(sample: Project, tmp_path: Path) -> None:
    approvers = sample.handouts_dir / "approvers"
    record = {"handout": "walking", "approved_by": "Jane Doe, MD", "approved_on": "2026-12-01"}
    jane = approver(sample, "jane", namespaces=APPROVAL_NAMESPACE)
    signed = {**record, "signature": sign(record, jane, APPROVAL_NAMESPACE)}
    good = verify(signed, APPROVAL_NAMESPACE, approvers)
    assert good.ok and good.signer == "jane@clinic.example"

    assert verify(record, APPROVAL_NAMESPACE, approvers).problem.startswith("not signed")
    edited = {**signed, "approved_by": "John Roe, MD"}
    assert "does not match the record" in verify(edited, APPROVAL_NAMESPACE, approvers).problem
    # The same signature shown for another purpose (a review) does not hold either.
    assert "does not match" in verify(signed, review_namespace("es"), approvers).problem

    mallory = new_key(tmp_path / "other", "mallory")
    forged = {**record, "signature": sign(record, mallory, APPROVAL_NAMESPACE)}
    assert "not in handouts/approvers" in verify(forged, APPROVAL_NAMESPACE, approvers).problem

    ana = approver(sample, "ana", namespaces=review_namespace("es"))  # may review Spanish, not approve
    by_ana = {**record, "signature": sign(record, ana, APPROVAL_NAMESPACE)}
    assert "ana@clinic.example may not sign 'handouts-approve'" in \
        verify(by_ana, APPROVAL_NAMESPACE, approvers).problem
    assert verify(by_ana, APPROVAL_NAMESPACE, tmp_path / "none").problem == \
        "no handouts/approvers lists who may sign"


def test_a_line_without_options_may_sign_anything(sample: Project) -> None:
    lead = approver(sample, "lead")
    record = {"reviewed_by": "Lead"}
    for namespace in (APPROVAL_NAMESPACE, review_namespace("zh_Hant")):
        checked = verify({**record, "signature": sign(record, lead, namespace)}, namespace,
                         sample.handouts_dir / "approvers")
        assert checked.ok and checked.signer == "lead@clinic.example", namespace


def test_an_unlisted_key_records_nothing(sample: Project, tmp_path: Path) -> None:
    approver(sample, "jane")  # somebody is listed, but not the one signing
    stranger = new_key(tmp_path / "other", "stranger")
    result = run_cli(sample, "approve", "walking", "--by", "Jane Doe, MD", "--key", str(stranger))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "not recorded: signed by a key that is not in handouts/approvers" in result.stderr
    assert not (sample.handouts_dir / "approvals" / "walking.yaml").exists()
    missing = run_cli(sample, "approve", "walking", "--by", "Jane Doe, MD", "--key", str(tmp_path / "nope"))
    assert missing.returncode == 1 and "nope: no such key file" in missing.stderr
    assert "Traceback" not in missing.stderr
    no_key = run_cli(sample, "approve", "walking", "--by", "Jane Doe, MD")
    assert no_key.returncode == 2 and "--key" in no_key.stderr


@pytest.mark.slow  # renders PDFs
def test_unsigned_edited_or_delisted_approvals_leave_the_pdf_a_draft_and_say_why(sample: Project) -> None:
    quiet = dict(locales=("en",), workers=1, editions=("standard",), progress=lambda line: None)
    record_approval(sample, walking(sample), "Jane Doe, MD", approver(sample))
    assert state(sample).status == APPROVED
    build(sample, **quiet)
    text = pdf_text(pdf_path(sample, "en", "walking"))
    assert DRAFT_MARK not in text and "by Jane Doe, MD" in text

    path = sample.handouts_dir / "approvals" / "walking.yaml"
    signed = path.read_text("utf-8")
    record = yaml.safe_load(signed)

    # Edited after signing: someone else's name on the same signature.
    path.write_text(signed.replace("Jane Doe, MD", "John Roe, MD"), "utf-8")
    assert state(sample).status == DRAFT and "does not match the record" in state(sample).problem
    build(sample, **quiet)
    text = pdf_text(pdf_path(sample, "en", "walking"))
    assert DRAFT_MARK in text and "John Roe" not in text and "Last reviewed" not in text
    checked = run_cli(sample, "check", "--locale", "es")
    assert "handouts/approvals/walking.yaml:1: warning: the approval does not count: the signature does not " \
           "match the record" in checked.stdout
    [problem] = [p for p in lint(sample, {}).problems if "approvals/walking.yaml" in p.path]
    assert problem.severity == "error" and "does not count" in problem.message

    # Unsigned: the record as `handouts approve` wrote it before records were signed.
    del record["signature"]
    path.write_text(yaml.safe_dump(record), "utf-8")
    assert state(sample).status == DRAFT and state(sample).problem.startswith("not signed")
    assert "the approval does not count: not signed" in run_cli(sample, "check", "--locale", "es").stdout

    # Signed by a key the clinic has since taken off the list.
    path.write_text(signed, "utf-8")
    assert state(sample).status == APPROVED
    (sample.handouts_dir / "approvers").write_text("")
    assert "not in handouts/approvers" in state(sample).problem
    build(sample, **quiet)
    assert DRAFT_MARK in pdf_text(pdf_path(sample, "en", "walking")), "the approvers file is a build input"


def test_a_signed_approval_copied_to_another_handout_does_not_count(sample: Project) -> None:
    record_approval(sample, walking(sample), "Jane Doe, MD", approver(sample))
    folder = sample.handouts_dir / "approvals"
    (folder / "other.yaml").write_text((folder / "walking.yaml").read_text())
    assert "approves handout 'walking', not 'other'" in read_approval(sample, "other").problem


def test_reviews_are_signed_per_locale_and_cover_the_back_translations(sample: Project) -> None:
    catalog = load_catalog(sample, "es")
    pt_only = approver(sample, "paulo", namespaces=review_namespace("pt"))
    try:
        record_review(sample, "es", catalog, "Paulo Reis", pt_only)
        raise AssertionError("a Portuguese reviewer recorded a Spanish review")
    except HandoutError as exc:
        assert "paulo@clinic.example may not sign 'handouts-review-es'" in str(exc)
    assert not (sample.locales_dir / "es" / "review.yaml").exists()

    ana = approver(sample, "ana", namespaces="handouts-review-es,handouts-review-pt")
    reviewed = record_review(sample, "es", catalog, "Ana Ruiz, CMI", ana)
    assert reviewed.status in ("reviewed", "pending") and not reviewed.problem

    record = sample.locales_dir / "es" / "review.yaml"
    record.write_text(record.read_text("utf-8").replace("Ana Ruiz, CMI", "Somebody Else"), "utf-8")
    edited = review_state(sample, "es", catalog)
    assert edited.status == "draft" and "does not match the record" in edited.problem
    assert "locales/es/review.yaml:1: warning: the review does not count" in \
        run_cli(sample, "check", "--locale", "es").stdout

    record_review(sample, "es", catalog, "Ana Ruiz, CMI", ana)
    back = sample.locales_dir / "es" / "back-translations.yaml"
    back.write_text("entries: []\n", "utf-8")  # records added (or removed) by hand after the review
    assert "back-translations.yaml changed after the review was signed" in \
        review_state(sample, "es", catalog).problem


def test_allow_helper_writes_allowed_signers_lines(sample: Project, tmp_path: Path) -> None:
    key = new_key(tmp_path / "k", "someone")
    allow(sample, key, "someone@clinic.example", "handouts-review-*")
    line = (sample.handouts_dir / "approvers").read_text()
    assert line.startswith('someone@clinic.example namespaces="handouts-review-*" ssh-ed25519 AAAA')
