"""The EHR hand-off: a FHIR R4 record that a patient was given a handout.

`communication()` turns one print-log row into a FHIR `Communication`
(category: patient education) that names the handout's canonical URL, its
revision, the fingerprint of the content printed, its language and the time.
The patient reference comes from the caller (the EHR knows the patient; the
print log never stores one), and appears only when given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from handoutkit.content.settings import Project
from handoutkit.errors import HandoutError

# HL7's communication-category code system has no "education" code; "instruction" is the
# closest, and the category's text says what it is.
CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/communication-category"
LOG_SYSTEM = "urn:handoutkit:print-log"
# A FHIR Reference.reference: a relative "Patient/<id>", an absolute URL, or a urn:uuid / urn:oid.
PATIENT_REFERENCE = re.compile(r"^(Patient/[A-Za-z0-9\-.]{1,64}|https?://\S+/Patient/[A-Za-z0-9\-.]{1,64}"
                               r"|urn:uuid:[0-9a-fA-F\-]{36}|urn:oid:[0-2](\.\d+)+)$")


@dataclass(frozen=True)
class Given:
    """What the print log knows about one handout given to a patient (never the patient)."""

    entry: str  # the log row's id
    printed_at: str  # ISO 8601 with offset
    handout: str
    title: str
    revision: int
    edition: str
    locale: str
    english_sha256: str
    translation_sha256: str
    version_sha256: str  # the archived, unpersonalised PDF's content hash


def canonical_url(project: Project, handout: str, locale: str) -> str:
    """The handout's web edition when the clinic publishes one (web.base_url), else a stable URN."""
    base = project.settings.web_base_url or ""
    if base:
        return f"{base}{locale}/{handout}.html"
    return f"urn:handoutkit:handout:{handout}"


def communication(project: Project, given: Given, patient: str | None = None) -> dict[str, Any]:
    """A FHIR R4 Communication describing the education given; JSON-ready."""
    if patient is not None and not PATIENT_REFERENCE.match(patient):
        raise HandoutError(f"--patient {patient!r}: expected a FHIR reference such as Patient/123, "
                           "https://ehr.example/fhir/Patient/123 or urn:uuid:...")
    language = given.locale.replace("_", "-")
    resource: dict[str, Any] = {
        "resourceType": "Communication",
        "identifier": [{"system": LOG_SYSTEM, "value": given.entry}],
        "status": "completed",
        "category": [{"coding": [{"system": CATEGORY_SYSTEM, "code": "instruction", "display": "Instruction"}],
                      "text": "Patient education"}],
        "language": language,
        "sent": given.printed_at,
        "payload": [{"contentAttachment": {
            "contentType": "application/pdf",
            "language": language,
            "url": canonical_url(project, given.handout, given.locale),
            "title": f"{given.title} (revision {given.revision}, {given.edition} edition)",
            "creation": given.printed_at,
        }}],
        "note": [{"text": f"Handout {given.handout}, revision {given.revision}, {given.edition} edition, "
                          f"language {language}. Content fingerprints (SHA-256): English {given.english_sha256}, "
                          f"translation {given.translation_sha256}, printed version {given.version_sha256}."}],
    }
    if patient is not None:
        resource["subject"] = {"reference": patient}
        resource["recipient"] = [{"reference": patient}]
    return resource
