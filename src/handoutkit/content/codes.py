"""Codes that identify a handout (`codes:` in its YAML): code systems and the format of their codes.

The clinic's coder writes them; this module only checks that each is well
formed for its system (a SNOMED CT concept id with a valid Verhoeff check
digit, a five-character CPT code, a seven-character ICD-10-PCS code, an
ICD-10-CM code), so a typo is reported at its line instead of silently never
matching. Whether a code is the *right* one is a clinical question: codes are
part of the approval fingerprint (approval.py) and read as unverified until a
clinician's approval covers them.

Systems are named by URI, as FHIR does; the Infobutton standard names them by
OID, so both are known here.
"""

from __future__ import annotations

import re
from typing import Callable

SNOMED = "http://snomed.info/sct"
CPT = "http://www.ama-assn.org/go/cpt"
ICD10PCS = "http://www.cms.gov/Medicare/Coding/ICD10"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"

NAMES = {SNOMED: "SNOMED CT", CPT: "CPT", ICD10PCS: "ICD-10-PCS", ICD10CM: "ICD-10-CM"}
OIDS = {"2.16.840.1.113883.6.96": SNOMED, "2.16.840.1.113883.6.12": CPT,
        "2.16.840.1.113883.6.4": ICD10PCS, "2.16.840.1.113883.6.90": ICD10CM}

# Verhoeff's dihedral-group tables (SNOMED CT identifiers end in a Verhoeff check digit).
_D = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5], [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
      [3, 4, 0, 1, 2, 8, 9, 5, 6, 7], [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
      [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3], [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
      [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]]
_P = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4], [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
      [8, 9, 1, 6, 0, 4, 3, 5, 2, 7], [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
      [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8]]


def verhoeff_valid(digits: str) -> bool:
    check = 0
    for position, digit in enumerate(reversed(digits)):
        check = _D[check][_P[position % 8][int(digit)]]
    return check == 0


def _snomed(code: str) -> str | None:
    if not re.fullmatch(r"[1-9][0-9]{5,17}", code):
        return "expected a SNOMED CT concept id: 6 to 18 digits, not starting with 0"
    if code[-3:-1] not in ("00", "10"):  # the partition: 00 core concept, 10 extension concept
        return "expected a SNOMED CT concept id (partition 00 or 10); this looks like a description or relationship id"
    if not verhoeff_valid(code):
        return "the SNOMED CT check digit (Verhoeff) does not match: a digit is mistyped"
    return None


def _pattern(regex: str, expected: str) -> Callable[[str], str | None]:
    return lambda code: None if re.fullmatch(regex, code) else f"expected {expected}"


VALIDATORS: dict[str, Callable[[str], str | None]] = {
    SNOMED: _snomed,
    # Category I: 5 digits; II, III and PLA: 4 digits and F, T or U.
    CPT: _pattern(r"[0-9]{4}[0-9FTU]", "a CPT code: 5 digits, or 4 digits and F, T or U"),
    # 7 characters, digits and letters without I and O.
    ICD10PCS: _pattern(r"[0-9A-HJ-NP-Z]{7}", "an ICD-10-PCS code: 7 characters, digits and capital letters "
                                             "other than I and O"),
    ICD10CM: _pattern(r"[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?", "an ICD-10-CM code such as A12.3B"),
}


def system_uri(name: str) -> str | None:
    """The system's URI from its URI or its OID; None when the system is not one handouts carry."""
    name = name.strip()
    if name in VALIDATORS:
        return name
    return OIDS.get(name.removeprefix("urn:oid:"))


def check_code(system: str, code: str) -> str | None:
    """What is wrong with a code, or None when it is well formed for its system."""
    uri = system_uri(system)
    if uri is None:
        known = ", ".join(f"{uri} ({name})" for uri, name in NAMES.items())
        return f"unknown code system {system!r}; expected one of: {known}"
    problem = VALIDATORS[uri](code)
    return f"{problem}; found {code!r} for {NAMES[uri]}" if problem else None
