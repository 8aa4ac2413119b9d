"""A hostile-input corpus against the front desk: no request may get a 5xx, a traceback or live markup back."""

from __future__ import annotations

import pytest

from handoutkit.content.settings import Project
from handoutkit.desk.server import FrontDesk, create_app
from tests.test_frontdesk import FORM, Desk


PAYLOADS = [
    "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "{{7*7}}", "{% raw %}", "%(name)s", "{clinic_phone}",
    "'; DROP TABLE prints; --", "../../../../etc/passwd", "\x00", "\x1b[31mred", "\r\nSet-Cookie: a=b",
    "Take 2 \u202e01 pills", "\u2067\u2069", "a\u200bb", "\ufeff", "\u115f", "e" + "\u0300" * 40,
    "\u0378", "\U0010ffff", "\ue000", "𝕳𝖆𝖈𝖐", "ﷺ" * 50, "A" * 5000, "٠١٢٣٤٥٦٧٨٩", "１２：３０", "2027-03-14T07:30",
    "-1", "1e309", "NaN", "null", "[]", "{}", "\u2028", "\\u0000", "%00", "%3Cscript%3E",
]
FIELDS = ["patient_name", "surgeon", "instructions", "procedure_date", "arrival_time", "clinic_phone",
          "handout", "locale"]
# Every payload in a text field, and a sample in the structured ones: well over 80 requests.
CASES = [(field, payload) for field in FIELDS[:3] for payload in PAYLOADS] + \
        [(field, payload) for field in FIELDS[3:] for payload in PAYLOADS[::3]]


@pytest.fixture(scope="module")
def desk(built_sample: Project, tmp_path_factory) -> Desk:
    front = FrontDesk(built_sample, tmp_path_factory.mktemp("hostile") / "var")
    front.start()
    app = create_app(built_sample, desk=front)
    return Desk(app)


def assert_safe(response, payload: str = "") -> None:
    body = response.get_data().decode("utf-8", "replace")
    assert response.status_code < 500, body[:500]
    assert "Traceback" not in body
    if response.mimetype == "text/html":
        assert "<script>alert" not in body and "<img src=x" not in body
        if response.status_code >= 400:
            assert response.headers["Cache-Control"] == "no-store"


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) + len(OTHER_REQUESTS) >= 80


@pytest.mark.slow  # the desk renders a PDF for each accepted field
@pytest.mark.parametrize("field, payload", CASES)
def test_hostile_field_gets_a_4xx_or_a_pdf(desk: Desk, field: str, payload: str) -> None:
    response = desk.post({**FORM, field: payload})
    assert_safe(response, payload)
    if response.status_code == 200:
        assert response.mimetype == "application/pdf"


OTHER_REQUESTS = [
    ("PUT", "/print", {}), ("DELETE", "/print", {}), ("PATCH", "/", {}), ("GET", "/print", {}),
    ("POST", "/", {}), ("OPTIONS", "/print", {}), ("TRACE", "/", {}),
    ("GET", "/pdf/es/../../handouts/clinic.yaml", {}), ("GET", "/pdf/es/%2e%2e%2fclinic.pdf", {}),
    ("GET", "/pdf/es/walking.pdf%00.html", {}), ("GET", "/packets/es/nope.pdf", {}),
    ("GET", "/pdf-large/de/walking.pdf", {}), ("GET", "/?q=<script>alert(1)</script>", {}),
    ("GET", "/" + "a" * 3000, {}), ("GET", "/status?x=%ff", {}),
    ("GET", "/", {"Host": "evil.example"}), ("GET", "/", {"Host": ""}), ("GET", "/", {"Host": "[::1"}),
    ("POST", "/print", {"Content-Type": "application/json"}),
    ("POST", "/print", {"Content-Type": "multipart/form-data; boundary=x"}),
    ("POST", "/print", {"Content-Type": "application/x-www-form-urlencoded; charset=utf-7"}),
]


@pytest.mark.slow  # the desk renders a PDF for each accepted field
@pytest.mark.parametrize("method, path, headers", OTHER_REQUESTS)
def test_odd_requests_get_no_5xx(desk: Desk, method: str, path: str, headers: dict) -> None:
    assert_safe(desk.client.open(path, method=method, headers=headers, data=b"csrf=" + desk.token.encode()))


@pytest.mark.slow  # the desk renders a PDF for each accepted field
def test_invalid_utf8_in_the_body(desk: Desk) -> None:
    body = b"csrf=" + desk.token.encode() + b"&handout=walking&locale=es&patient_name=%ff%fe%c3"
    assert_safe(desk.client.post("/print", data=body, content_type="application/x-www-form-urlencoded"))


@pytest.mark.slow  # the desk renders a PDF for each accepted field
def test_body_too_large(desk: Desk) -> None:
    response = desk.post({**FORM, "instructions": "x" * 100_000})
    assert response.status_code == 413
    assert_safe(response)


@pytest.mark.slow  # the desk renders a PDF for each accepted field
def test_repeated_fields(desk: Desk) -> None:
    body = f"csrf={desk.token}&handout=walking&handout=../x&locale=es&locale=de&patient_name=a&patient_name=<b>"
    assert_safe(desk.client.post("/print", data=body, content_type="application/x-www-form-urlencoded"))
