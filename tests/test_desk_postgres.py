"""Several servers, one print log: PostgreSQL (a real server, started for these tests) behind `--log-url`.

The same checks run on the embedded SQLite log and on PostgreSQL; then two `handouts serve`
processes share the database and the form secret, and PostgreSQL is stopped for 20 s while
desks print.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import make_project
from tests.pgserver import PgServer, available
from tests.test_desk_server import FORM, Server

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not available(), reason="needs PostgreSQL (make test-deps)")]
HANDOUTS = str(Path(sys.executable).with_name("handouts"))


@pytest.fixture(scope="module")
def pg():
    server = PgServer()
    server.start()
    yield server
    server.remove()


def fresh_url(pg: PgServer, name: str) -> str:
    import psycopg

    with psycopg.connect(pg.url, autocommit=True) as db:
        db.execute(f"DROP DATABASE IF EXISTS {name}")
        db.execute(f"CREATE DATABASE {name}")
    return pg.url.rsplit("/", 1)[0] + f"/{name}"


def row(entry: str, when: str = "2026-12-01T10:00:00+00:00", key: str = "v1"):
    from handoutkit.desk.printlog import LogRow

    return LogRow(when, "desk-1", None, "walking", 2, "standard", "es", "e" * 64, "t" * 64, None, key, entry=entry)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_same_log_semantics_on_both_databases(backend: str, pg: PgServer, tmp_path: Path) -> None:
    from handoutkit.desk.printlog import PrintLog

    url = fresh_url(pg, "semantics") if backend == "postgresql" else None
    log = PrintLog(tmp_path / "var", log_url=url)
    assert log.store.kind == backend
    assert log.record([row("a"), row("b")]) and log.record([row("a")])  # a retried row is stored once
    rows = log.rows()
    assert [r["entry"] for r in rows] == ["a", "b"] and [r["id"] for r in rows] == sorted(r["id"] for r in rows)
    assert rows[0]["desk"] == "desk-1" and rows[0]["revision"] == 2
    first_id = log.database_id
    assert PrintLog(tmp_path / "var", log_url=url).database_id == first_id  # a restart: the same database
    old = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=800)).isoformat(timespec="seconds")
    assert log.record([row("c", old)])
    deleted, _ = log.forget_before(dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=365))
    assert deleted == 1 and [r["entry"] for r in log.rows()] == ["a", "b"]
    if url:
        listed = subprocess.run([HANDOUTS, "print-log", "--log-url", url, "--format", "json"],
                                cwd=make_project(tmp_path / "p").root, capture_output=True, text=True, timeout=60)
        assert listed.returncode == 0, listed.stderr
        assert [r["entry"] for r in json.loads(listed.stdout)] == ["a", "b"]


def test_two_servers_share_the_log_and_the_secret_and_survive_a_database_outage(pg: PgServer,
                                                                                tmp_path: Path) -> None:
    from handoutkit.outputs.build import build

    url = fresh_url(pg, "shared")
    project = make_project(tmp_path)
    build(project, locales=("en", "es"), workers=1, progress=lambda line: None)
    secret = tmp_path / "secret" / "form-secret"
    archive = tmp_path / "shared-archive"
    common = ("--log-url", url, "--secret-file", str(secret), "--archive-dir", str(archive))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one = Server(project, tmp_path / "a", (*common, "--state-dir", str(tmp_path / "a" / "var")))
    two = Server(project, tmp_path / "b", (*common, "--state-dir", str(tmp_path / "b" / "var")))
    try:
        two.token = one.token  # a form served by one server, printed on the other
        assert two.post(FORM)[0] == 200
        assert one.post(FORM)[0] == 200

        def listed() -> list[dict]:
            done = subprocess.run([HANDOUTS, "print-log", "--log-url", url, "--format", "json"], cwd=project.root,
                                  capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, done.stderr
            return json.loads(done.stdout)

        assert len(listed()) == 2
        pg.stop()
        stopped = time.monotonic()
        try:
            for server in (one, two, one, two):
                status, headers, pdf = server.post(FORM)
                assert status == 200 and pdf.startswith(b"%PDF")  # the print is delivered...
                assert "X-Handouts-Warning" in headers  # ...and the desk told the log will catch up
            time.sleep(max(0.0, 20 - (time.monotonic() - stopped)))
        finally:
            pg.start()
        deadline = time.monotonic() + 60
        while len(rows := listed()) < 6:
            assert time.monotonic() < deadline, rows
            time.sleep(1)
        assert len(rows) == 6 and len({r["entry"] for r in rows}) == 6
        for server in (one, two):
            assert "pending row(s) written" in server.err.read_text()
        # One archive for both: any print can be given back from it, whichever server printed it.
        assert list(archive.glob("*.pdf")) and not (tmp_path / "a" / "var" / "archive").exists()
        out = tmp_path / "reprint.pdf"
        done = subprocess.run([HANDOUTS, "reprint", str(rows[0]["id"]), "-o", str(out), "--log-url", url,
                               "--archive-dir", str(archive)], cwd=project.root, capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0 and out.read_bytes().startswith(b"%PDF"), done.stderr
    finally:
        one.stop()
        two.stop()


def test_a_log_url_is_shown_without_its_password() -> None:
    from handoutkit.desk.logstore import open_store

    store = open_store(Path("unused"), "postgresql://desk:s3cret@db.clinic.lan:5432/handouts?sslmode=require")
    assert store.label == "postgresql://desk:***@db.clinic.lan:5432/handouts" and "s3cret" not in store.label


def test_an_unknown_log_url_is_refused(tmp_path: Path) -> None:
    done = subprocess.run([HANDOUTS, "print-log", "--log-url", "mysql://x@y/z"], cwd=make_project(tmp_path).root,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "expected postgresql://" in done.stderr and "Traceback" not in done.stderr
