"""Front desk: the offline catalog page and the personalised-printing server."""

from __future__ import annotations

import datetime as dt
import io
import re
import sqlite3
from pathlib import Path

import pytest
from pypdf import PdfReader

from handoutkit.content.settings import Project
from handoutkit.desk.server import FrontDesk, create_app
from handoutkit.translation.locales import format_long_date

pytestmark = pytest.mark.slow  # the desk renders a PDF for each print


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_catalog_lists_every_handout_with_relative_links(built_sample: Project) -> None:
    html = (built_sample.build_dir / "index.html").read_text("utf-8")
    assert 'href="pdf/es/walking.pdf"' in html and 'href="pdf-large/es/walking.pdf"' in html
    assert 'data-href="pdf/es/walking.pdf"' in html  # the Print button
    assert "Caminar después de la cirugía" in html  # searchable in the patient's language
    assert ">Español · Spanish</option>" in html  # native language names
    assert "Draft translation, not reviewed" in html
    assert not re.search(r'(src|href)="(https?:)?//', html), "the catalog must work offline"
    assert '<p class="hint">Revision 2</p>' in html and "walking · revision" not in html  # no internal ids


def token_of(client) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get("/").get_data(as_text=True))[1]


class Desk:
    """A test client that sends the form's token, as the page does."""

    def __init__(self, app):
        self.app = app
        self.client = app.test_client()
        self.token = token_of(self.client)

    def post(self, data: dict, **kwargs):
        return self.client.post("/print", data={"csrf": self.token, **data}, **kwargs)

    def get(self, *args, **kwargs):
        return self.client.get(*args, **kwargs)


@pytest.fixture(scope="module")
def desk_project(tmp_path_factory) -> Project:
    """A private copy of the built sample: these tests write a print log and break things."""
    from handoutkit.outputs.build import build
    from tests.conftest import make_project

    project = make_project(tmp_path_factory.mktemp("desk"))
    build(project, locales=("en", "es"), workers=1, progress=lambda line: None)
    return project


@pytest.fixture(scope="module")
def front_desk(desk_project: Project) -> FrontDesk:
    desk = FrontDesk(desk_project, desk_project.root / "var")
    desk.start()
    return desk


@pytest.fixture
def client(desk_project: Project, front_desk: FrontDesk) -> Desk:
    app = create_app(desk_project, desk=front_desk)
    app.config["TESTING"] = True
    return Desk(app)


def log_rows(project: Project) -> list[tuple]:
    path = project.root / "var" / "print-log.sqlite3"
    return sqlite3.connect(path).execute("SELECT handout, revision, locale, edition, desk, clinic_phone, packet "
                                         "FROM prints ORDER BY id").fetchall()


FORM = {"handout": "walking", "locale": "es", "patient_name": "María José Pérez",
        "procedure_date": "2027-03-14", "arrival_time": "07:30", "surgeon": "Dra. Chen",
        "instructions": "Traiga su lista de medicinas."}


def test_print_puts_details_on_the_pdf_with_localized_date(client) -> None:
    soon = dt.date.today() + dt.timedelta(days=40)  # always inside the accepted window
    response = client.post({**FORM, "procedure_date": soon.isoformat()})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    text = pdf_text(response.data)
    assert "María José Pérez" in text
    assert format_long_date(soon, "es") in text
    assert "Dra. Chen" in text


def test_print_log_lives_outside_build_and_holds_no_patient_detail(client, desk_project: Project) -> None:
    before = len(log_rows(desk_project))
    client.post(FORM)
    rows = log_rows(desk_project)
    assert len(rows) == before + 1 and rows[-1] == ("walking", 2, "es", "standard", "127.0.0.1", None, None)
    full = sqlite3.connect(desk_project.root / "var" / "print-log.sqlite3").execute(
        "SELECT english_sha256, translation_sha256, version_sha256, printed_at FROM prints").fetchall()[-1]
    assert all(re.fullmatch(r"[0-9a-f]{64}", value) for value in full[:3]) and full[3].endswith("+00:00")
    raw = (desk_project.root / "var" / "print-log.sqlite3").read_bytes()
    for detail in ("María", "Pérez", "Chen", "2027-03-14", "07:30", "medicinas"):
        assert detail.encode() not in raw
    assert not (desk_project.build_dir / "print-log.sqlite3").exists()  # `make clean` keeps the history


@pytest.mark.parametrize("field, value, status, message", [
    ("patient_name", "x" * 101, 400, "too long"),
    ("patient_name", "<script>alert(1)</script>", 400, "not allowed"),
    ("surgeon", "Dr <b>Bold</b>", 400, "not allowed"),
    ("instructions", "Take 2 \u202e01 pills", 400, "direction control"),
    ("patient_name", "Ana\u2066 Ruiz", 400, "direction control"),
    ("patient_name", "Ana\u200b Ruiz", 400, "invisible"),
    ("patient_name", "Ana\ufeffRuiz", 400, "invisible"),
    ("patient_name", "Ana\u3164Ruiz", 400, "invisible"),
    ("patient_name", "A" + "\u0301" * 8, 400, "combining marks"),
    ("procedure_date", "2027-02-30", 400, "not a real date"),
    ("procedure_date", "14/03/2027", 400, "not a real date"),
    ("procedure_date", "٢٠٢٧-٠٣-١٤", 400, "not a real date"),
    ("procedure_date", "1999-03-14", 400, "outside"),
    ("procedure_date", "2999-03-14", 400, "outside"),
    ("arrival_time", "25:00", 400, "not a time"),
    ("arrival_time", "٠٧:٣٠", 400, "not a time"),
    ("arrival_time", "7h30", 400, "not a time"),
    ("handout", "../../etc/passwd", 404, "Unknown handout"),
    ("handout", "nope", 404, "Unknown handout"),
    ("handout", "packet:nope", 404, "Unknown handout"),
    ("locale", "fr", 404, "not available"),
    ("locale", "de", 404, "not available"),  # broken catalog: never printed
    ("clinic_phone", "call me", 400, "Clinic phone"),
    ("clinic_phone", "12", 400, "Clinic phone"),
    ("clinic_phone", "١٢٣٤٥٦٧٨", 400, "Clinic phone"),
])
def test_bad_input_gets_a_message_and_a_4xx(client, field: str, value: str, status: int, message: str) -> None:
    response = client.post({**FORM, field: value})
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert response.mimetype == "text/html"
    assert response.headers["Cache-Control"] == "no-store"


def test_characters_no_font_can_print_are_refused(client) -> None:
    response = client.post({**FORM, "patient_name": "山田"})  # es has only Latin fonts
    assert response.status_code == 400
    assert "cannot print" in response.get_data(as_text=True)


def test_phone_override_is_printed_and_logged(client, desk_project: Project) -> None:
    text = pdf_text(client.post({**FORM, "clinic_phone": "(555) 010-0177"}).data)
    assert "(555) 010-0177" in text and "(555) 010-0199" not in text
    assert log_rows(desk_project)[-1][5] == "(555) 010-0177"


def test_built_pdfs_are_served_and_paths_are_confined(client) -> None:
    assert client.get("/pdf/es/walking.pdf").status_code == 200
    assert client.get("/pdf/es/..%2F..%2Fhandouts%2Fclinic.yaml.pdf").status_code == 404
    assert client.get("/pdf/xx/walking.pdf").status_code == 404


def test_broken_locale_is_shown_disabled_with_its_reason(client) -> None:
    html = client.get("/").get_data(as_text=True)
    option = re.search(r'<option value="de"[^>]*>[^<]*</option>', html.split('id="f-locale"')[1])[0]
    assert "disabled" in option and "not available" in option
    assert re.search(r"de cannot be printed: \d+ problems? in its translation: locales/de/", html)


# ---------------------------------------------------------------- cross-site requests and hosts


def test_post_without_the_forms_token_is_refused_and_not_logged(client, desk_project: Project) -> None:
    before = len(log_rows(desk_project))
    response = client.client.post("/print", data=FORM)
    assert response.status_code == 403 and "out of date" in response.get_data(as_text=True)
    assert len(log_rows(desk_project)) == before


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site", "Origin": "http://localhost"},
])
def test_cross_site_post_is_refused_even_with_the_token(client, desk_project: Project, headers: dict) -> None:
    before = len(log_rows(desk_project))
    response = client.post(FORM, headers=headers)
    assert response.status_code == 403 and response.mimetype == "text/html"
    assert response.headers["Cache-Control"] == "no-store"
    assert len(log_rows(desk_project)) == before


def test_same_origin_post_is_accepted(client) -> None:
    response = client.post(FORM, headers={"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "localhost.evil.example", "127.0.0.1.nip.io:8000"])
def test_unknown_host_is_refused(client, host: str) -> None:
    response = client.get("/", headers={"Host": host})
    assert response.status_code == 400 and "host" in response.get_data(as_text=True)


def test_allowed_host_is_served(desk_project: Project, front_desk: FrontDesk) -> None:
    app = create_app(desk_project, desk=front_desk, allowed_hosts=("handouts.clinic.lan",))
    assert app.test_client().get("/", headers={"Host": "handouts.clinic.lan:8000"}).status_code == 200


def test_serve_refuses_a_network_address_without_allowed_host(desk_project: Project) -> None:
    from handoutkit.desk.server import serve
    from handoutkit.errors import HandoutError

    with pytest.raises(HandoutError, match="--allowed-host"):
        serve(desk_project, host="0.0.0.0")


# ---------------------------------------------------------------- the page budget


def test_details_that_overflow_the_page_budget_name_the_field(tmp_path: Path) -> None:
    from tests.conftest import make_project

    project = make_project(tmp_path)
    clinic = project.handouts_dir / "clinic.yaml"
    clinic.write_text(clinic.read_text() + "lint:\n  page_budget: 1\n")
    walking = project.handouts_dir / "walking.yaml"  # English that nearly fills its one page
    walking.write_text(walking.read_text().replace("sections:\n", "sections:\n  - heading: More\n    blocks:\n"
                                                   + "      - paragraph: Walk a little more each day.\n" * 16, 1))
    desk = Desk(create_app(project, state_dir=tmp_path / "var"))
    english = {**FORM, "locale": "en", "instructions": "Bring your list of medicines. " * 33}
    response = desk.post(english)
    assert response.status_code == 422
    assert "Shorten the instructions (now 989 characters)" in response.get_data(as_text=True)
    assert desk.post({**english, "instructions": ""}).status_code == 200


# ---------------------------------------------------------------- the audit log under faults


@pytest.fixture
def fresh(tmp_path: Path, desk_project: Project, front_desk: FrontDesk):
    """A desk whose print log is private to the test."""
    from handoutkit.desk.printlog import PrintLog

    front_desk.log, saved = PrintLog(tmp_path / "var"), front_desk.log
    app = create_app(desk_project, desk=front_desk)
    yield Desk(app), front_desk.log
    front_desk.log = saved


def count(log) -> int:
    return len(log.rows())


def test_locked_log_delivers_the_pdf_warns_and_records_later(fresh) -> None:
    client, log = fresh
    holder = sqlite3.connect(log.path)
    holder.execute("BEGIN EXCLUSIVE")
    response = client.post(FORM)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "print log could not be written" in response.headers["X-Handouts-Warning"]
    assert "waiting to be recorded" in client.get("/").get_data(as_text=True)
    assert log.flush() is False  # still locked
    holder.rollback()
    holder.close()
    assert log.flush() is True and count(log) == 1


def test_deleted_log_starts_again_and_loses_no_row(fresh) -> None:
    client, log = fresh
    log.path.unlink()
    assert client.post(FORM).status_code == 200
    assert count(log) == 1


def test_read_only_log_keeps_rows_in_a_spool_until_writable(fresh, tmp_path: Path) -> None:
    client, log = fresh
    log.path.chmod(0o444)
    try:
        import os
        if os.geteuid() == 0:  # root writes through file modes: make the database itself refuse
            sqlite3.connect(log.path).execute("PRAGMA query_only = 1")
            log.store.connect = lambda read_only=False: _query_only(log.path)
        response = client.post(FORM)
        assert response.status_code == 200 and "X-Handouts-Warning" in response.headers
        assert log.spool.exists() and len(log.spool.read_text().splitlines()) == 1
    finally:
        log.path.chmod(0o644)
        log.store.__dict__.pop("connect", None)
    assert log.flush() and count(log) == 1 and not log.spool.exists()


def _query_only(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=0.25)
    db.execute("PRAGMA query_only = 1")
    return db


def test_full_disk_delivers_the_pdf(fresh, monkeypatch) -> None:
    client, log = fresh

    def full(*args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(log.store, "connect", full)
    response = client.post(FORM)
    assert response.status_code == 200 and "X-Handouts-Warning" in response.headers
    assert client.get("/status").json["log_pending"] == 1
    monkeypatch.undo()
    assert log.flush() and count(log) == 1


def test_pending_rows_survive_a_restart(tmp_path: Path) -> None:
    from handoutkit.desk.printlog import LogRow, PrintLog

    log = PrintLog(tmp_path / "var")
    log.path.unlink()
    log.path.mkdir()  # a folder where the database should be: nothing can be written
    row = LogRow("2026-01-01T00:00:00+00:00", "desk", None, "walking", 2, "standard", "es", "a" * 64, "b" * 64,
                 None, "c" * 64)
    assert log.record([row]) is False
    log.path.rmdir()
    again = PrintLog(tmp_path / "var")  # a restart: the spool is read and written to the log
    assert [r["handout"] for r in again.rows()] == ["walking"]
    again.record([row])  # a retried row is stored once
    assert len(again.rows()) == 1


# ---------------------------------------------------------------- archive and reprint


def test_reprint_gives_back_the_archived_version(client, desk_project: Project, tmp_path: Path) -> None:
    import subprocess
    import sys

    client.post({**FORM, "clinic_phone": "(555) 010-0188"})
    desk: FrontDesk = client.app.config["desk"]
    assert not desk.to_archive  # rendered in the background (here: at once) and kept
    rows = desk.log.rows()
    handouts = Path(sys.executable).with_name("handouts")
    listed = subprocess.run([str(handouts), "print-log", "--format", "json"], cwd=desk_project.root,
                            capture_output=True, text=True, check=True)
    assert '"clinic_phone": "(555) 010-0188"' in listed.stdout
    out = tmp_path / "reprint.pdf"
    done = subprocess.run([str(handouts), "reprint", str(rows[-1]["id"]), "-o", str(out)], cwd=desk_project.root,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    text = pdf_text(out.read_bytes())
    assert "(555) 010-0188" in text and "Caminar" in text and "María" not in text
    missing = subprocess.run([str(handouts), "reprint", "99999", "-o", str(out)], cwd=desk_project.root,
                             capture_output=True, text=True)
    assert missing.returncode == 1 and "no print with id 99999" in missing.stderr and "Traceback" not in missing.stderr


# ---------------------------------------------------------------- bad project files at start


def test_review_record_that_is_a_list_disables_the_locale_not_the_page(tmp_path: Path) -> None:
    from tests.conftest import make_project

    project = make_project(tmp_path)
    (project.locales_dir / "es" / "review.yaml").write_text("- reviewed_by: someone\n")
    desk = Desk(create_app(project, state_dir=tmp_path / "var"))
    html = desk.get("/").get_data(as_text=True)
    assert "es cannot be printed" in html and "review.yaml:1: expected the review record as a mapping" in html
    assert desk.post(FORM).status_code == 404


def test_broken_po_file_disables_the_locale(tmp_path: Path) -> None:
    from tests.conftest import make_project

    project = make_project(tmp_path)
    po = project.po_path("es")
    po.write_bytes(po.read_bytes().replace(b'msgstr "', b'msgstr "\\q', 3))
    desk = Desk(create_app(project, state_dir=tmp_path / "var"))
    assert desk.get("/").status_code == 200
    assert "es cannot be printed" in desk.get("/").get_data(as_text=True)
    response = desk.post(FORM)
    assert response.status_code == 404 and "not available" in response.get_data(as_text=True)


@pytest.mark.parametrize("locale", ["en", "es"])
def test_maximum_length_fields_fit_the_budget_or_get_a_4xx(client, desk_project: Project, locale: str) -> None:
    from handoutkit.desk.server import LIMITS

    fields = {"patient_name": "N" * LIMITS["name"], "surgeon": "S" * LIMITS["name"],
              "instructions": ("Bring your medicines. " * 60)[:LIMITS["instructions"]]}
    response = client.post({**FORM, "locale": locale, **fields})
    if response.status_code == 200:
        assert len(PdfReader(io.BytesIO(response.data)).pages) <= desk_project.settings.limits.page_budget
    else:
        assert response.status_code == 422 and "Shorten the instructions" in response.get_data(as_text=True)


def test_an_edited_po_changes_the_form_and_the_print_together(tmp_path: Path) -> None:
    """A translator saves a PO file while the server runs: both the form and the printed PDF
    change, or, while the file fails its checks, neither prints that language."""
    from tests.conftest import make_project

    project = make_project(tmp_path)
    desk = FrontDesk(project, project.root / "var")
    desk.start()
    client = Desk(create_app(project, desk=desk))
    old, new = "Caminar después de la cirugía", "Caminar tras la operación"
    assert old in client.get("/").get_data(as_text=True)
    assert desk.reload_if_changed() is False, "nothing changed: nothing is prepared again"

    po = project.po_path("es")
    committed = po.read_text("utf-8")
    po.write_text(committed.replace(f'msgstr "{old}"', f'msgstr "{new}"'), "utf-8")
    assert desk.reload_if_changed() is True
    client = Desk(create_app(project, desk=desk))
    page = client.get("/").get_data(as_text=True)
    assert new in page and old not in page
    text = pdf_text(client.post(FORM).data)
    assert new in text and old not in text

    # A broken save: es is unavailable on the form and refused at /print, until it is fixed.
    po.write_text(committed.replace(f'msgstr "{old}"', 'msgstr "Caminar {roto}"'), "utf-8")
    assert desk.reload_if_changed() is True
    client = Desk(create_app(project, desk=desk))
    assert "es" in desk.setup.unavailable
    assert client.post(FORM).status_code == 404
    desk.pool.stop()


@pytest.mark.slow  # prepares every locale of the repository
def test_a_personalised_print_teaches_the_desk_the_tight_layout(tmp_path: Path) -> None:
    """es/acdf fits its pages bare but not with the patient's box: after the first personalised
    print needed the tight layout, later ones start there (one layout instead of two)."""
    from handoutkit.desk.server import parse_print_request
    from tests.conftest import copy_repo

    project = copy_repo(tmp_path)
    desk = FrontDesk(project, project.root / "var")
    desk.start()
    started: list[bool] = []
    render = desk.pool.render

    def recording(jobs, arrived=None):
        started.extend(job.start_tight for job in jobs)
        return render(jobs, arrived)

    desk.pool.render = recording
    form = {**FORM, "handout": "acdf", "procedure_date": (dt.date.today() + dt.timedelta(days=10)).isoformat()}
    request = parse_print_request(form, desk.handout_ids, set(desk.setup.ready), desk.packets)
    for _ in range(2):
        desk.print(request, "127.0.0.1")
    assert started == [False, True]
    desk.pool.stop()
