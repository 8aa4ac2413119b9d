"""Safe on the LAN: desks sign in on any non-loopback bind, clinic numbers come from a list,
the log and archive are private to the server, old rows and archives are deleted on request."""

from __future__ import annotations

import base64
import datetime as dt
import os
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from handoutkit.content.settings import Project
from tests.conftest import make_project
from tests.test_desk_server import FORM, Server, free_port

HANDOUTS = str(Path(sys.executable).with_name("handouts"))
PASSWORD = "correct horse battery"


def basic(name: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()}


def add_account(project: Project, name: str, password: str = PASSWORD) -> subprocess.CompletedProcess:
    return subprocess.run([HANDOUTS, "desk-account", name], cwd=project.root, input=password + "\n",
                          capture_output=True, text=True, timeout=60)


@pytest.mark.slow  # the console script in its own process
def test_a_lan_bind_without_sign_in_is_refused(sample: Project) -> None:
    done = subprocess.run([HANDOUTS, "serve", "--host", "0.0.0.0", "--port", str(free_port()),
                           "--allowed-host", "handouts.clinic.lan"], cwd=sample.root, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1 and "desks must sign in" in done.stderr and "desk-account" in done.stderr
    assert "ready on" not in done.stderr and "Traceback" not in done.stderr


@pytest.mark.slow  # the console script in its own process
def test_desk_accounts_are_stored_hashed_and_private(sample: Project) -> None:
    assert add_account(sample, "desk-1").returncode == 0
    assert add_account(sample, "desk-2", "another long password").returncode == 0
    short = add_account(sample, "desk-3", "short")
    assert short.returncode == 1 and "too short" in short.stderr
    path = sample.root / "var" / "desk-accounts"
    text = path.read_text()
    assert PASSWORD not in text and "desk-1:scrypt:" in text and "desk-2:" in text and "desk-3" not in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


@pytest.mark.slow  # a server on 0.0.0.0
def test_a_lan_bind_asks_every_request_to_sign_in(tmp_path: Path) -> None:
    from handoutkit.outputs.build import build

    project = make_project(tmp_path)
    build(project, locales=("en", "es"), workers=1, progress=lambda line: None)
    assert add_account(project, "desk-1").returncode == 0
    # 0.0.0.0 also answers on 127.0.0.1, where the test reaches it.
    running = Server.__new__(Server)
    running.project, running.port = project, free_port()
    running.url = f"http://127.0.0.1:{running.port}/"
    running.out, running.err = tmp_path / "out.txt", tmp_path / "err.txt"
    running.process = subprocess.Popen(
        [HANDOUTS, "serve", "--host", "0.0.0.0", "--port", str(running.port), "--workers", "1",
         "--allowed-host", "127.0.0.1"], cwd=project.root, stdout=running.out.open("wb"),
        stderr=running.err.open("wb"), start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while "ready on" not in running.err.read_text():
            assert running.process.poll() is None, running.err.read_text()
            assert time.monotonic() < deadline
            time.sleep(0.2)
        for path in ("/", "/status", "/pdf/es/walking.pdf"):
            status, headers, _ = running.get(path)
            assert status == 401 and {k.lower(): v for k, v in headers.items()}["www-authenticate"].startswith("Basic"), path
        assert running.get("/status", basic("desk-1", "wrong password!"))[0] == 401
        status, _, page = running.get("/", basic("desk-1", PASSWORD))
        assert status == 200
        import re

        running.token = re.search(r'name="csrf" value="([^"]+)"', page)[1]
        assert running.post(FORM)[0] == 401
        status, _, pdf = running.post(FORM, headers=basic("desk-1", PASSWORD))
        assert status == 200 and pdf.startswith(b"%PDF")
        rows = sqlite3.connect(project.root / "var" / "print-log.sqlite3").execute(
            "SELECT desk FROM prints").fetchall()
        assert rows == [("desk-1",)]  # the account, not an address
    finally:
        running.stop()


@pytest.mark.slow  # the console script in its own process
def test_a_trusted_proxy_header_is_believed_only_from_the_proxy(tmp_path: Path) -> None:
    from handoutkit.desk.auth import DeskAuth
    from handoutkit.desk.lan import PEER

    auth = DeskAuth(header="X-Remote-User", proxy="10.0.0.5")
    assert auth.user({PEER: "10.0.0.5", "HTTP_X_REMOTE_USER": "desk-7"}, None) == "desk-7"
    assert auth.user({PEER: "10.0.0.9", "HTTP_X_REMOTE_USER": "desk-7"}, None) is None
    assert auth.user({PEER: "10.0.0.5"}, None) is None
    done = subprocess.run([HANDOUTS, "serve", "--auth-header", "X-Remote-User", "--port", str(free_port())],
                          cwd=make_project(tmp_path).root, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "--trusted-proxy" in done.stderr


@pytest.mark.slow  # the desk renders a PDF for each print
def test_the_clinic_phone_is_chosen_from_the_list_never_typed(tmp_path: Path) -> None:
    from handoutkit.desk.server import create_app
    from tests.test_frontdesk import Desk

    project = make_project(tmp_path)
    desk = Desk(create_app(project, state_dir=tmp_path / "var"))
    page = desk.get("/").get_data(as_text=True)
    assert '<select id="f-phone" name="clinic_phone">' in page and '<option value="(555) 010-0177"' in page
    assert 'name="clinic_phone" maxlength' not in page  # no free text field
    typed = desk.post({**FORM, "clinic_phone": "(555) 123-4567"})  # a patient's number, say
    assert typed.status_code == 400 and "pick one of the clinic" in typed.get_data(as_text=True)
    assert desk.post({**FORM, "clinic_phone": "(555) 010-0177"}).status_code == 200


@pytest.mark.slow  # the desk renders a PDF for each print
def test_log_and_archive_are_private_to_the_server(tmp_path: Path) -> None:
    from handoutkit.desk.server import create_app
    from tests.test_frontdesk import Desk

    project = make_project(tmp_path)
    state = tmp_path / "var"
    state.mkdir(mode=0o755)
    os.chmod(state, 0o755)
    desk = Desk(create_app(project, state_dir=state))
    assert desk.post(FORM).status_code == 200
    files = [p for p in state.rglob("*") if p.is_file()]
    assert any(p.suffix == ".pdf" for p in files) and any(p.name == "print-log.sqlite3" for p in files)
    assert {oct(stat.S_IMODE(p.stat().st_mode)) for p in files} == {"0o600"}
    folders = [state, *[p for p in state.rglob("*") if p.is_dir()]]
    assert {oct(stat.S_IMODE(p.stat().st_mode)) for p in folders} == {"0o700"}


@pytest.mark.slow  # the desk renders a PDF for each print
def test_retention_deletes_old_rows_and_the_archives_only_they_named(tmp_path: Path) -> None:
    from handoutkit.desk.printlog import PrintLog
    from handoutkit.desk.server import create_app
    from tests.test_frontdesk import Desk

    project = make_project(tmp_path)
    state = tmp_path / "var"
    app = create_app(project, state_dir=state)
    desk = Desk(app)
    assert desk.post(FORM).status_code == 200
    assert desk.post({**FORM, "clinic_phone": "(555) 010-0177"}).status_code == 200
    log: PrintLog = app.config["desk"].log
    rows = log.rows()
    assert len(rows) == 2
    old_key = rows[0]["version_sha256"]
    # The first print is made two years old, with its archive.
    two_years = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=730)
    with sqlite3.connect(log.path) as db:
        db.execute("UPDATE prints SET printed_at = ? WHERE id = ?", (two_years.isoformat(timespec="seconds"),
                                                                    rows[0]["id"]))
    old_digest = (state / "archive" / "versions" / old_key).read_text().strip()
    for path in (state / "archive" / "versions" / old_key, state / "archive" / f"{old_digest}.pdf"):
        os.utime(path, (two_years.timestamp(), two_years.timestamp()))
    deleted, removed = log.forget_before(dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=365))
    assert (deleted, removed) == (1, 2)
    assert [r["id"] for r in log.rows()] == [rows[1]["id"]]
    assert not (state / "archive" / "versions" / old_key).exists()
    assert log.archived(rows[1]["version_sha256"])
    assert log.archived_pdf(rows[1]["version_sha256"]).startswith(b"%PDF")


@pytest.mark.slow  # the console script in its own process
def test_keep_days_is_an_option_of_serve() -> None:
    done = subprocess.run([HANDOUTS, "serve", "--help"], capture_output=True, text=True, timeout=60)
    assert "--keep-days" in done.stdout and "--auth-header" in done.stdout
    assert "--host 0.0.0.0" not in done.stdout  # the example no longer binds every address directly


@pytest.mark.slow  # the console script in its own process
@pytest.mark.parametrize("bad", ["desk 1", "", "a" * 41])
def test_bad_account_names_are_refused(sample: Project, bad: str) -> None:
    done = add_account(sample, bad)
    assert done.returncode != 0 and "Traceback" not in done.stderr


@pytest.mark.slow  # the desk renders a PDF for each print
def test_a_strict_content_security_policy_with_a_nonce_per_response(tmp_path: Path) -> None:
    import re

    from handoutkit.desk.server import create_app
    from tests.test_frontdesk import Desk

    desk = Desk(create_app(make_project(tmp_path), state_dir=tmp_path / "var"))
    nonces = []
    for _ in range(2):
        response = desk.get("/")
        policy = response.headers["Content-Security-Policy"]
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        nonce = re.search(r"script-src 'nonce-([^']+)'", policy)[1]
        page = response.get_data(as_text=True)
        assert page.count(f'nonce="{nonce}"') == 2  # the page's one <style> and one <script>
        assert not re.search(r"<(script|style)(?![^>]*nonce=)", page)
        assert not re.search(r'\sstyle="|\son[a-z]+="', page)  # no inline style or handler attributes
        nonces.append(nonce)
    assert nonces[0] != nonces[1]
    refused = desk.post({**FORM, "surgeon": "<b>"})  # an error page: the same policy
    assert "unsafe-inline" not in refused.headers["Content-Security-Policy"]


@pytest.mark.slow  # the desk renders a PDF for each print
def test_a_deleted_log_is_noticed_and_record_ids_stay_unique(tmp_path: Path, caplog) -> None:
    import json
    import logging

    from handoutkit.desk.server import create_app
    from tests.test_frontdesk import Desk

    project = make_project(tmp_path)
    state = project.root / "var"
    app = create_app(project, state_dir=state)
    desk = Desk(app)
    assert desk.post(FORM).status_code == 200
    log = app.config["desk"].log
    first = log.rows()[0]
    first_db = log.database_id
    caplog.set_level(logging.INFO)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{log.path}{suffix}").unlink(missing_ok=True)
    assert desk.post(FORM).status_code == 200  # the print is still logged, in a new database...
    assert "is not the database written before" in caplog.text  # ...and the operator is told
    second = log.rows()[0]
    assert second["id"] == first["id"] == 1 and second["entry"] != first["entry"]
    assert log.database_id != first_db
    # A restart remembers which database it wrote to: a replaced file is noticed then too.
    caplog.clear()
    from handoutkit.desk.printlog import PrintLog

    for suffix in ("", "-wal", "-shm"):
        Path(f"{log.path}{suffix}").unlink(missing_ok=True)
    PrintLog(state)
    assert "is not the database written before" in caplog.text
    # The FHIR record's identifier is the row's random entry, not its number.
    record = subprocess.run([HANDOUTS, "fhir-record", "1"], cwd=project.root, capture_output=True, text=True,
                            timeout=60)
    assert record.returncode == 1  # the new database is empty
    assert desk.post(FORM).status_code == 200
    record = subprocess.run([HANDOUTS, "fhir-record", "1"], cwd=project.root, capture_output=True, text=True,
                            timeout=60)
    identifier = json.loads(record.stdout)["identifier"][0]["value"]
    assert identifier == log.rows()[0]["entry"] and identifier not in (first["entry"], second["entry"])


@pytest.mark.slow  # the desk renders a PDF for each print
def test_a_form_from_one_server_prints_on_another_sharing_the_secret(tmp_path: Path) -> None:
    """Signed tokens: any server with the secret accepts the form (and so does a restarted one);
    a server with another secret refuses it."""
    from handoutkit.desk.server import create_app
    from tests.test_frontdesk import Desk

    project = make_project(tmp_path)
    secret = tmp_path / "shared" / "form-secret"
    one = Desk(create_app(project, state_dir=tmp_path / "one", secret_file=secret))
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600 and len(secret.read_text().strip()) == 64
    two = Desk(create_app(project, state_dir=tmp_path / "two", secret_file=secret))
    two.token = one.token  # the page came from server one
    assert two.post(FORM).status_code == 200
    other = Desk(create_app(project, state_dir=tmp_path / "three", secret_file=tmp_path / "other-secret"))
    other.token = one.token
    refused = other.post(FORM)
    assert refused.status_code == 403 and "out of date" in refused.get_data(as_text=True)
    other.token = one.token[:-2] + ("A" if one.token[-1] != "A" else "B") + one.token[-1]
    assert other.post(FORM).status_code == 403


def test_a_form_secret_others_can_read_is_refused(tmp_path: Path) -> None:
    from handoutkit.desk.auth import load_secret
    from handoutkit.errors import HandoutError

    path = tmp_path / "form-secret"
    path.write_text("x" * 64)
    os.chmod(path, 0o644)
    with pytest.raises(HandoutError, match="readable by other users"):
        load_secret(path)


@pytest.mark.slow  # two server starts
def test_an_open_page_still_prints_after_a_restart(tmp_path: Path) -> None:
    running = Server(make_project(tmp_path), tmp_path)
    token = running.token
    running.stop()
    again = Server(running.project, tmp_path)
    try:
        again.token = token  # the page the desk kept open
        status, _, pdf = again.post(FORM)
        assert status == 200 and pdf.startswith(b"%PDF")
    finally:
        again.stop()


# ---------------------------------------------------------------- right answers at the desk


@pytest.mark.slow  # the desk renders a PDF for each print
def test_percent_encoded_invalid_utf8_is_refused_not_printed_literally(tmp_path: Path) -> None:
    import urllib.parse

    from handoutkit.desk.server import create_app
    from tests.test_frontdesk import Desk

    desk = Desk(create_app(make_project(tmp_path), state_dir=tmp_path / "var"))
    fields = urllib.parse.urlencode({**FORM, "csrf": desk.token, "patient_name": "JoXXhn"}).replace("JoXXhn",
                                                                                                   "Jo%FF%FEhn")
    response = desk.client.post("/print", data=fields.encode(), content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400 and "not valid text" in response.get_data(as_text=True)
    typed = desk.post({**FORM, "patient_name": "Jo%FFhn"})  # typed as such: the browser sends %25FF
    assert typed.status_code == 200


@pytest.mark.slow  # the desk renders a PDF for each print
def test_an_empty_form_draws_no_details_box(tmp_path: Path) -> None:
    from handoutkit.desk.server import create_app
    from tests.test_frontdesk import Desk, pdf_text

    desk = Desk(create_app(make_project(tmp_path), state_dir=tmp_path / "var"))
    empty = {"handout": "walking", "locale": "es"}
    bare = pdf_text(desk.post(empty).data)
    with_name = pdf_text(desk.post({**empty, "patient_name": "Ana"}).data)
    assert "Ana" in with_name and len(with_name) > len(bare) + 3
    label = with_name.replace(bare, "")  # what the box adds besides the name
    assert label.strip()
    assert pdf_text(desk.post({**empty, "surgeon": " "}).data) == bare


@pytest.mark.slow  # the desk renders a PDF for each print
def test_a_refusal_names_the_field_that_actually_overflows(tmp_path: Path) -> None:
    from handoutkit.desk.server import create_app
    from tests.test_frontdesk import Desk

    project = make_project(tmp_path)
    clinic = project.handouts_dir / "clinic.yaml"
    text = clinic.read_text()
    clinic.write_text(text.replace("  page_budget: 2", "  page_budget: 1") if "page_budget" in text
                      else text + "lint:\n  page_budget: 1\n")
    desk = Desk(create_app(project, state_dir=tmp_path / "var"))
    bare = {"handout": "walking", "locale": "es"}
    assert desk.post(bare).status_code == 200  # it fits one page as published
    # 36 lines, within the field's 1000 characters: more than the one page has room for, even in the
    # tight layout's compact box
    long_instructions = "\n".join(f"{i}. Traiga sus medicinas." for i in range(1, 37))
    refused = desk.post({**bare, "patient_name": "Ana María de los Ángeles Fernández Quintero",
                         "instructions": long_instructions})
    assert refused.mimetype == "text/html", refused.status_code
    message = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "Shorten the instructions" in message, message[:2000]
    assert "patient name" not in message.split("Shorten the")[1][:40]
