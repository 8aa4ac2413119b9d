"""Clinical approval: has a clinician approved the English text of a handout?

The content was drafted from a source article; nothing on paper may read as
clinically reviewed until a clinician says so. `handouts approve ID --by NAME`
records who approved which handout, when, and a fingerprint of exactly what
was approved: every printed English text, the clinic settings the handout
prints (name and phone numbers) and its pictures (handouts/pictures.yaml).
Records live in handouts/approvals/<id>.yaml, signed with the approver's own
SSH key (`--key`, see signatures.py); a record that is unsigned, signed by a
key not allowed in handouts/approvers, or edited after signing counts as no
approval, and lint and `check` say why.

A handout whose printed English no longer matches its record is a draft again:
its PDFs, English and translated, carry the draft mark on every page and no
"Last reviewed" line. An approval expires after `review_interval_years`
(clinic.yaml): `handouts lint` fails and the catalog says "Review overdue".
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from handoutkit.content.handouts import APPROVALS_DIR, Content, Handout, Section, Text
from handoutkit.content.settings import MEASURES, Clinic, Project
from handoutkit.content.signatures import (
    APPROVAL_NAMESPACE,
    APPROVERS_FILE,
    SIGNATURE_FIELD,
    dump_record,
    sign,
    verify,
)
from handoutkit.errors import HandoutError, Problem, ProblemsError
from handoutkit.files import atomic_write

# The four states, as the catalog and stats name them.
DRAFT = "draft"  # never approved
CHANGED = "changed"  # approved once, the printed English has changed since: a draft again
APPROVED = "approved"
OVERDUE = "overdue"  # approved, and the approval is older than review_interval_years


@dataclass(frozen=True)
class Approval:
    """One recorded approval, as handouts/approvals/<id>.yaml holds it."""

    handout_id: str
    approved_by: str
    approved_on: dt.date
    content_sha256: str
    signer: str | None = None  # who signed it, as handouts/approvers names them
    problem: str = ""  # why the record does not count (unsigned, unknown key, edited); empty when it does
    # Checklist items (checklists.py) the clinician waived, with the reason: part of the signed record.
    waived: tuple[tuple[str, str], ...] = ()

    @property
    def verified(self) -> bool:
        return not self.problem

    @property
    def waivers(self) -> dict[str, str]:
        """The waivers that count: only those of a record whose signature holds."""
        return dict(self.waived) if self.verified else {}


@dataclass(frozen=True)
class ApprovalState:
    status: str  # DRAFT, CHANGED, APPROVED or OVERDUE
    approval: Approval | None = None  # the record, when it matches the printed English
    due: dt.date | None = None  # when the approval expires
    problem: str = ""  # a record exists but does not count (its signature does not hold): the status is DRAFT

    @property
    def current(self) -> bool:
        """The approval covers what is printed (overdue or not): the PDF may say "Last reviewed"."""
        return self.status in (APPROVED, OVERDUE)


def _section_data(section: Section) -> list:
    return [_text_data(section.heading),
            [[b.kind, b.callout, _text_data(b.title), _text_data(b.text), [_text_data(t) for t in b.items]]
             for b in section.blocks]]


def _text_data(text: Text | None) -> list | None:
    # Only what prints: notes, citations and marks are not part of the approved wording.
    return None if text is None else [text.context, text.value]


def fingerprint(handout: Handout, clinic: Clinic) -> str:
    """A hash of everything the English PDF prints (its texts, the template wording around them,
    revision and clinic settings) and of the codes that identify it."""
    data = {
        "id": handout.id,
        "revision": handout.revision.number,
        "title": _text_data(handout.title),
        "summary": _text_data(handout.summary),
        "sections": [_section_data(s) for s in handout.sections],
        "clinic": [clinic.name, clinic.phone, clinic.emergency_number],
    }
    for name in MEASURES:
        # Only the measures the clinic sets, so approvals made before a setting existed stay valid.
        if getattr(clinic, name):
            data[name] = getattr(clinic, name)
    if handout.key_points:
        data["key_points"] = [_text_data(t) for t in handout.key_points]
    if handout.wording:
        # The template wording a patient reads on the page ("Questions? Call ...").
        data["wording"] = list(handout.wording)
    if handout.codes:
        # The codes the EHR finds the handout by are approved with its text. Only present when
        # there are codes, so the approvals of handouts without codes stay valid.
        data["codes"] = [[c.system, c.code] for c in handout.codes]
    if handout.pictures:
        # The drawings are approved with the text: a redrawn picture (its template's bytes) is a
        # change. Only present when there are pictures, like the codes.
        data["pictures"] = [[p.name, p.sha256] for p in handout.pictures]
    return hashlib.sha256(json.dumps(data, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def approval_path(project: Project, handout_id: str) -> Path:
    return project.handouts_dir / APPROVALS_DIR / f"{handout_id}.yaml"


def approvers_path(project: Project) -> Path:
    """handouts/approvers: who may approve and review (OpenSSH allowed_signers format)."""
    return project.handouts_dir / APPROVERS_FILE


def read_approval(project: Project, handout_id: str) -> Approval | None:
    """The recorded approval of a handout, or None; a damaged record is a clean error.

    The signature is checked here: `problem` says why a record does not count."""
    path = approval_path(project, handout_id)
    if not path.exists():
        return None
    label = project.rel(path)
    try:
        record = yaml.safe_load(path.read_text("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise HandoutError(f"{label}:1: unreadable approval record ({exc})") from None
    problems = []
    if not isinstance(record, dict):
        raise HandoutError(f"{label}:1: expected an approval record (a mapping), found {type(record).__name__}")
    for key in ("approved_by", "approved_on", "content_sha256"):
        if not record.get(key):
            problems.append(Problem(label, 1, f"missing '{key}' in the approval record; "
                                              f"record approvals with `handouts approve {handout_id} --by NAME`"))
    on = record.get("approved_on")
    if on and not isinstance(on, dt.date):
        try:
            on = dt.date.fromisoformat(str(on))
        except ValueError:
            problems.append(Problem(label, 1, f"expected approved_on as a date YYYY-MM-DD, found {on!r}"))
    waived = record.get("waived") or {}
    if not isinstance(waived, dict) or not all(isinstance(k, str) and isinstance(v, str) and v.strip()
                                               for k, v in waived.items()):
        problems.append(Problem(label, 1, "expected 'waived:' as checklist items with the reason for each"))
    if problems:
        raise ProblemsError(problems)
    checked = verify(record, APPROVAL_NAMESPACE, approvers_path(project), project.rel(approvers_path(project)))
    problem = checked.problem
    if not problem and record.get("handout") != handout_id:  # a signed record copied to another handout
        problem = f"the record approves handout {record.get('handout')!r}, not {handout_id!r}"
    return Approval(handout_id, str(record["approved_by"]), on, str(record["content_sha256"]),
                    checked.signer, problem, tuple(sorted(waived.items())))


def read_approvals(project: Project, content: Content) -> dict[str, Approval]:
    """Every handout's recorded approval, by handout id (handouts never approved are absent)."""
    found = {h.id: read_approval(project, h.id) for h in content.handouts}
    return {key: value for key, value in found.items() if value is not None}


def expiry(approved_on: dt.date, years: int) -> dt.date:
    try:
        return approved_on.replace(year=approved_on.year + years)
    except ValueError:  # 29 February
        return approved_on.replace(year=approved_on.year + years, day=28)


def approval_state(handout: Handout, clinic: Clinic, approval: Approval | None, interval_years: int,
                   today: dt.date | None = None) -> ApprovalState:
    """Where a handout stands: never approved, changed since, approved, or overdue."""
    if approval is None:
        return ApprovalState(DRAFT)
    if not approval.verified:
        return ApprovalState(DRAFT, problem=approval.problem)
    if approval.content_sha256 != fingerprint(handout, clinic):
        return ApprovalState(CHANGED)
    due = expiry(approval.approved_on, interval_years)
    status = OVERDUE if (today or dt.date.today()) >= due else APPROVED
    return ApprovalState(status, approval, due)


def record_approval(project: Project, handout: Handout, by: str, key: Path,
                    today: dt.date | None = None, waivers: dict[str, str] | None = None) -> Approval:
    """Record, signed with the private key `key`, that `by` approved the English of a handout as it
    prints today, and waived the checklist items in `waivers` (item -> reason). Nothing is written
    unless handouts/approvers allows that key to approve."""
    by = " ".join(by.split())
    if not by:
        raise HandoutError("--by needs the approving clinician's name and credentials, such as \"Jane Doe, MD\"")
    record = {"handout": handout.id, "approved_by": by, "approved_on": (today or dt.date.today()).isoformat(),
              "content_sha256": fingerprint(handout, project.settings.clinic)}
    if waivers:
        record["waived"] = {item: " ".join(reason.split()) for item, reason in sorted(waivers.items())}
    record[SIGNATURE_FIELD] = sign(record, key, APPROVAL_NAMESPACE)
    checked = verify(record, APPROVAL_NAMESPACE, approvers_path(project), project.rel(approvers_path(project)))
    if not checked.ok:
        raise HandoutError(f"{key}: not recorded: {checked.problem}; a clinic adds an approver's public key "
                           "to handouts/approvers (see docs/clinicians.md)")
    header = ("# Written by `handouts approve`. The hash covers every English text the handout prints\n"
              "# and the clinic settings on it; when one changes, its PDFs are drafts again. The signature\n"
              "# covers every other field: an edited record is no approval.\n")
    atomic_write(approval_path(project, handout.id),
                 (header + dump_record(record)).encode())
    approval = read_approval(project, handout.id)
    assert approval is not None
    return approval
