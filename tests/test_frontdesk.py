"""Front desk: the offline catalog page and the personalised-printing server."""

from __future__ import annotations

import io
import re
import sqlite3
from pathlib import Path

import pytest
from pypdf import PdfReader

from handoutkit.serve import create_app
from handoutkit.settings import Project


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_catalog_lists_every_handout_with_relative_links(built_sample: Project) -> None:
    html = (built_sample.build_dir / "index.html").read_text("utf-8")
    assert 'href="pdf/es/walking.pdf"' in html and 'href="pdf-large/es/walking.pdf"' in html
    assert "Caminar después de la cirugía" in html  # searchable in the patient's language
    assert ">Español · Spanish</option>" in html  # native language names
    assert "Draft translation, not reviewed" in html
    assert not re.search(r'(src|href)="(https?:)?//', html), "the catalog must work offline"


@pytest.fixture
def client(built_sample: Project, tmp_path: Path):
    app = create_app(built_sample, tmp_path / "log.sqlite3")
    app.config["TESTING"] = True
    return app.test_client()


FORM = {"handout": "walking", "locale": "es", "patient_name": "María José Pérez",
        "procedure_date": "2027-03-14", "arrival_time": "07:30", "surgeon": "Dra. Chen",
        "instructions": "Traiga su lista de medicinas."}


def test_print_puts_details_on_the_pdf_with_localized_date(client, tmp_path: Path) -> None:
    response = client.post("/print", data=FORM)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    text = pdf_text(response.data)
    assert "María José Pérez" in text
    assert "14 de marzo de 2027" in text
    assert "Dra. Chen" in text


def test_print_log_holds_no_patient_detail(client, tmp_path: Path, built_sample: Project) -> None:
    client.post("/print", data=FORM)
    log = tmp_path / "log.sqlite3"
    rows = sqlite3.connect(log).execute("SELECT * FROM prints").fetchall()
    assert len(rows) == 1 and rows[0][1:4] == ("walking", 2, "es")
    raw = log.read_bytes()
    for detail in ("María", "Pérez", "Chen", "2027-03-14", "07:30", "medicinas"):
        assert detail.encode() not in raw
    # ...and nothing else on disk carries them either.
    for path in built_sample.root.rglob("*"):
        if path.is_file() and path.stat().st_size < 5_000_000:
            assert "Pérez".encode() not in path.read_bytes(), path


@pytest.mark.parametrize("field, value, status, message", [
    ("patient_name", "x" * 101, 400, "too long"),
    ("patient_name", "<script>alert(1)</script>", 400, "not allowed"),
    ("surgeon", "Dr <b>Bold</b>", 400, "not allowed"),
    ("procedure_date", "2027-02-30", 400, "not a real date"),
    ("procedure_date", "14/03/2027", 400, "not a real date"),
    ("arrival_time", "25:00", 400, "not a time"),
    ("handout", "../../etc/passwd", 404, "Unknown handout"),
    ("handout", "nope", 404, "Unknown handout"),
    ("locale", "fr", 404, "not available"),
    ("locale", "de", 404, "not available"),  # broken catalog: never printed
    ("clinic_phone", "call me", 400, "Clinic phone"),
])
def test_bad_input_gets_a_message_and_a_4xx(client, field: str, value: str, status: int, message: str) -> None:
    response = client.post("/print", data={**FORM, field: value})
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert response.mimetype == "text/html"


def test_characters_no_font_can_print_are_refused(client) -> None:
    response = client.post("/print", data={**FORM, "patient_name": "山田"})  # es has only Latin fonts
    assert response.status_code == 400
    assert "cannot print" in response.get_data(as_text=True)


def test_phone_override_is_printed(client) -> None:
    text = pdf_text(client.post("/print", data={**FORM, "clinic_phone": "(555) 010-0177"}).data)
    assert "(555) 010-0177" in text and "(555) 010-0199" not in text


def test_built_pdfs_are_served_and_paths_are_confined(client) -> None:
    assert client.get("/pdf/es/walking.pdf").status_code == 200
    assert client.get("/pdf/es/..%2F..%2Fhandouts%2Fclinic.yaml.pdf").status_code == 404
    assert client.get("/pdf/xx/walking.pdf").status_code == 404
