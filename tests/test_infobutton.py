"""Codes on handouts (format per system, approval) and the Infobutton responder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from handoutkit.content.approval import fingerprint, record_approval
from handoutkit.content.codes import CPT, ICD10PCS, SNOMED, check_code
from handoutkit.content.handouts import load_content
from handoutkit.content.settings import Project
from handoutkit.desk.infobutton import Language, infobutton
from handoutkit.errors import ProblemsError
from handoutkit.translation.prepared import prepare_all

from .conftest import DATA, make_project
from .signing import approver

CODES = (DATA / "codes" / "codes.yaml").read_text("utf-8")
SNOMED_OID = "2.16.840.1.113883.6.96"


def with_codes(project: Project, codes: str = CODES) -> Project:
    walking = project.handouts_dir / "walking.yaml"
    walking.write_text(walking.read_text("utf-8") + codes, "utf-8")
    return project


@pytest.fixture(scope="module")
def coded(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The sample with test codes on walking (read-only: tests that write make their own copy)."""
    return with_codes(make_project(tmp_path_factory.mktemp("coded")))


@pytest.fixture(scope="module")
def languages(coded: Project) -> dict[str, Language]:
    """The sample's printable locales, prepared once (de is broken, so it is not among them)."""
    content = load_content(coded.handouts_dir, coded.root)
    return {loc: Language(p.translations, p.draft) for loc, p in prepare_all(coded, content).items() if p.ok}


def ask(project: Project, languages: dict[str, Language] | None = None, **params: str) -> tuple[int, dict]:
    query = {"knowledgeResponseType": "application/json", **{k.replace("_", "."): v for k, v in params.items()}}
    return infobutton(project, query, languages=languages)


# ---------------------------------------------------------------- codes in the YAML


@pytest.mark.parametrize("system,code,expected", [
    (SNOMED, "9990001007", None),
    (SNOMED, "9990001008", "check digit"),
    (SNOMED, "0990001007", "not starting with 0"),
    (SNOMED, "9990001017", "description or relationship"),
    (CPT, "99990", None), (CPT, "9999F", None), (CPT, "9999", "5 digits"), (CPT, "9999X", "5 digits"),
    (ICD10PCS, "XW9Z9ZZ", None), (ICD10PCS, "XW9Z9ZO", "other than I and O"), (ICD10PCS, "xw9z9zz", "7 characters"),
    ("http://example.org/codes", "1", "unknown code system"),
])
def test_code_formats(system: str, code: str, expected: str | None) -> None:
    problem = check_code(system, code)
    assert (problem is None) if expected is None else (expected in problem), problem


def test_codes_are_read_with_their_lines(coded: Project) -> None:
    walking = load_content(coded.handouts_dir, coded.root).get("walking")
    assert [(c.system, c.code) for c in walking.codes] == [
        (SNOMED, "9990001007"), (CPT, "99990"), (ICD10PCS, "XW9Z9ZZ")]
    lines = (coded.handouts_dir / "walking.yaml").read_text("utf-8").splitlines()
    assert '"9990001007"' in lines[walking.codes[0].line - 1]


def test_a_bad_code_is_a_file_line_error(sample: Project) -> None:
    with_codes(sample, CODES.replace('"99990"', '"9999"').replace("snomed.info/sct", "snomed.example/sct"))
    with pytest.raises(ProblemsError) as error:
        load_content(sample.handouts_dir, sample.root)
    lines = (sample.handouts_dir / "walking.yaml").read_text("utf-8").splitlines()
    messages = [str(p) for p in error.value.problems]
    system_line = next(i for i, line in enumerate(lines, 1) if "snomed.example" in line)
    cpt_line = next(i for i, line in enumerate(lines, 1) if '"9999"' in line)
    assert messages[0].startswith(f"handouts/walking.yaml:{system_line}: unknown code system")
    assert messages[1].startswith(f"handouts/walking.yaml:{cpt_line}: expected a CPT code")


def test_codes_are_part_of_what_a_clinician_approves(sample: Project) -> None:
    clinic = sample.settings.clinic
    before = fingerprint(load_content(sample.handouts_dir, sample.root).get("walking"), clinic)
    with_codes(sample)
    after = fingerprint(load_content(sample.handouts_dir, sample.root).get("walking"), clinic)
    assert before != after  # adding (or changing) a code reopens the approval


def test_codes_stay_unverified_until_approved(sample: Project) -> None:
    coded = with_codes(sample)
    status, body = ask(coded, mainSearchCriteria_v_c="99990", mainSearchCriteria_v_cs=CPT)
    assert status == 200
    (entry,) = body["feed"]["entry"]
    assert entry["codesVerified"] is False and entry["clinicalApproval"] == "draft"
    record_approval(coded, load_content(coded.handouts_dir, coded.root).get("walking"), "Jane Doe, MD", approver(coded))
    (entry,) = ask(coded, mainSearchCriteria_v_c="99990", mainSearchCriteria_v_cs=CPT)[1]["feed"]["entry"]
    assert entry["codesVerified"] is True and entry["clinicalApproval"] == "approved"


def test_the_repository_invents_no_codes(repo: Project) -> None:
    assert all(not h.codes for h in load_content(repo.handouts_dir, repo.root).handouts)


# ---------------------------------------------------------------- Infobutton


def test_finds_the_handout_in_spanish(coded: Project) -> None:
    status, body = ask(coded, mainSearchCriteria_v_c="9990001007", mainSearchCriteria_v_cs=SNOMED_OID,
                       informationRecipient_languageCode_c="es")
    assert status == 200
    feed = body["feed"]
    assert feed["lang"] == "es" and "note" not in feed
    (entry,) = feed["entry"]
    assert entry["title"]["_value"] == "Caminar después de la cirugía"
    assert entry["summary"]["_value"] == "Caminar le ayuda a sanar."
    assert [link["href"] for link in entry["link"]] == ["web/es/walking.html", "pdf/es/walking.pdf"]
    assert entry["translationReviewed"] is False
    json.dumps(body)  # serialisable as it is


def test_region_subtags_and_uris_are_understood(coded: Project, languages) -> None:
    status, body = ask(coded, languages, mainSearchCriteria_v_c="XW9Z9ZZ", mainSearchCriteria_v_cs=ICD10PCS,
                       informationRecipient_languageCode_c="es-MX")
    assert status == 200 and body["feed"]["entry"][0]["lang"] == "es"


def test_an_unpublished_or_unprintable_language_gets_english_and_a_note(coded: Project, languages) -> None:
    for language in ("fr", "de"):  # fr is not published; de is published but broken
        status, body = ask(coded, languages, mainSearchCriteria_v_c="99990", mainSearchCriteria_v_cs=CPT,
                           informationRecipient_languageCode_c=language)
        assert status == 200
        assert body["feed"]["lang"] == "en" and "shown in English" in body["feed"]["note"]["_value"]
        assert body["feed"]["entry"][0]["title"]["_value"] == "Walking after surgery"


def test_links_use_the_web_address_and_the_server(sample: Project, languages) -> None:
    coded = with_codes(sample)
    clinic = coded.handouts_dir / "clinic.yaml"
    clinic.write_text(clinic.read_text("utf-8") + "web:\n  base_url: https://handouts.example.org/\n", "utf-8")
    project = Project(coded.root)
    status, body = infobutton(project, {"mainSearchCriteria.v.c": "99990", "mainSearchCriteria.v.cs": CPT},
                              languages=languages, server_url="http://127.0.0.1:8000/")
    links = [link["href"] for link in body["feed"]["entry"][0]["link"]]
    assert links == ["https://handouts.example.org/en/walking.html", "http://127.0.0.1:8000/pdf/en/walking.pdf"]


@pytest.mark.parametrize("system", [SNOMED, "2.16.840.1.113883.6.1", "http://loinc.org"])
def test_unknown_codes_give_an_empty_valid_feed(coded: Project, languages, system: str) -> None:
    code = "22298006" if system == SNOMED else "1234-5"
    status, body = ask(coded, languages, mainSearchCriteria_v_c=code, mainSearchCriteria_v_cs=system)
    assert status == 200 and body["feed"]["entry"] == [] and body["feed"]["lang"] == "en"


@pytest.mark.parametrize("params,message", [
    ({}, "missing mainSearchCriteria.v.c"),
    ({"mainSearchCriteria.v.c": "99990"}, "missing mainSearchCriteria.v.cs"),
    ({"mainSearchCriteria.v.c": "99990", "mainSearchCriteria.v.cs": "cpt"}, "is not a code system"),
    ({"mainSearchCriteria.v.c": "12", "mainSearchCriteria.v.cs": SNOMED_OID}, "SNOMED CT concept id"),
    ({"mainSearchCriteria.v.c": "99990", "mainSearchCriteria.v.cs": CPT,
      "informationRecipient.languageCode.c": "not a language!"}, "is not a language code"),
    ({"mainSearchCriteria.v.c": "99990", "mainSearchCriteria.v.cs": CPT, "knowledgeResponseType": "text/xml"},
     "not supported"),
    ({"mainSearchCriteria.v.c": ["99990", "99991"], "mainSearchCriteria.v.cs": CPT}, "expected it once"),
])
def test_bad_parameters_are_a_400_with_a_message(coded: Project, languages, params: dict, message: str) -> None:
    status, body = infobutton(coded, params, languages=languages)
    assert status == 400 and message in body["error"]["message"], body


@pytest.mark.slow  # the server's start prepares every locale with its fonts
def test_the_server_answers_infobutton_requests_and_serves_the_web_edition(built_sample: Project,
                                                                          tmp_path: Path) -> None:
    from handoutkit.desk.server import create_app

    client = create_app(built_sample, tmp_path / "log.sqlite3").test_client()
    ok = client.get("/infobutton?mainSearchCriteria.v.c=9990001007&mainSearchCriteria.v.cs=2.16.840.1.113883.6.96"
                    "&informationRecipient.languageCode.c=es&knowledgeResponseType=application/json")
    assert ok.status_code == 200 and ok.mimetype == "application/json"
    assert ok.get_json()["feed"]["entry"] == [] and ok.get_json()["feed"]["lang"] == "es"  # the sample has no codes
    bad = client.get("/infobutton?mainSearchCriteria.v.cs=2.16.840.1.113883.6.96")
    assert bad.status_code == 400 and "missing mainSearchCriteria.v.c" in bad.get_json()["error"]["message"]
    assert client.get("/web/es/walking.html").status_code == 200
    assert client.get("/web/").status_code == 200
    assert client.get("/web/..%2F..%2Fhandouts%2Fclinic.yaml").status_code == 404
