"""The FHIR record of education given: valid R4(B), no patient data unless the caller gives it."""

from __future__ import annotations

import json

import pytest
from fhir.resources.R4B.communication import Communication

from handoutkit.content.settings import Project
from handoutkit.desk.fhir import Given, communication
from handoutkit.errors import HandoutError

from .conftest import run_cli

GIVEN = Given(entry="3f2a9c0d1e", printed_at="2026-12-01T10:15:00+00:00", handout="acdf",
              title="Anterior cervical discectomy and fusion (ACDF)", revision=2, edition="standard",
              locale="zh_Hans", english_sha256="a" * 64, translation_sha256="b" * 64, version_sha256="c" * 64)


def test_the_record_validates_against_fhir_r4b(sample: Project) -> None:
    resource = communication(sample, GIVEN, "Patient/123")
    parsed = Communication.model_validate(resource)
    assert parsed.status == "completed" and parsed.category[0].text == "Patient education"
    attachment = parsed.payload[0].contentAttachment
    assert attachment.language == "zh-Hans" and attachment.url == "urn:handoutkit:handout:acdf"
    assert "revision 2" in attachment.title and "c" * 64 in parsed.note[0].text
    assert parsed.subject.reference == "Patient/123"
    assert parsed.identifier[0].value == "3f2a9c0d1e"


def test_no_patient_data_unless_given(sample: Project) -> None:
    resource = communication(sample, GIVEN)
    Communication.model_validate(resource)
    text = json.dumps(resource)
    assert "subject" not in resource and "recipient" not in resource and "Patient/" not in text


def test_the_canonical_url_is_the_web_edition_when_published(sample: Project) -> None:
    clinic = sample.handouts_dir / "clinic.yaml"
    clinic.write_text(clinic.read_text("utf-8") + "\nweb:\n  base_url: https://handouts.example.org/\n", "utf-8")
    project = Project(sample.root)
    url = communication(project, GIVEN)["payload"][0]["contentAttachment"]["url"]
    assert url == "https://handouts.example.org/zh_Hans/acdf.html"


@pytest.mark.parametrize("bad", ["Jane Doe", "Patient/", "Patient/1 2", "<script>"])
def test_a_malformed_patient_reference_is_refused(sample: Project, bad: str) -> None:
    with pytest.raises(HandoutError, match="expected a FHIR reference"):
        communication(sample, GIVEN, bad)


def test_the_command_reads_the_print_log(sample: Project, tmp_path) -> None:
    """`handouts fhir-record LOG_ID`: from a real print-log row; the patient only when given."""
    from handoutkit.desk.printlog import LogRow, PrintLog

    state = tmp_path / "var"
    log = PrintLog(state)
    assert log.record([LogRow("2026-12-01T10:15:00+00:00", "127.0.0.1", None, "walking", 2, "standard", "es",
                              "a" * 64, "b" * 64, None, "c" * 64)])
    [row] = log.rows()
    run = run_cli(sample, "fhir-record", str(row["id"]), "--state-dir", str(state))
    assert run.returncode == 0, run.stderr
    resource = json.loads(run.stdout)
    Communication.model_validate(resource)
    assert "subject" not in resource and resource["language"] == "es"
    assert "Walking after surgery" in resource["payload"][0]["contentAttachment"]["title"]
    out = tmp_path / "given.json"
    run = run_cli(sample, "fhir-record", str(row["id"]), "--state-dir", str(state), "--patient", "Patient/123",
                  "-o", str(out))
    assert run.returncode == 0, run.stderr
    assert json.loads(out.read_text("utf-8"))["subject"] == {"reference": "Patient/123"}
    missing = run_cli(sample, "fhir-record", "999", "--state-dir", str(state))
    assert missing.returncode == 1 and "no print with id 999" in missing.stderr and "Traceback" not in missing.stderr
