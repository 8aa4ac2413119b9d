"""The front desk as the practice runs it: `handouts serve` (waitress and warm worker processes).

One server for the module, started as a subprocess on a copy of the sample
project; the tests talk HTTP to it and read everything it wrote.
"""

from __future__ import annotations

import io
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pypdf import PdfReader

from handoutkit.content.settings import Project

PLANTED = "Qwxzplanted Vandermolen"  # appears nowhere else: any copy of it on disk or in a log is a leak


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, project: Project, tmp: Path):
        self.project = project
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.out, self.err = tmp / "stdout.txt", tmp / "stderr.txt"
        handouts = Path(sys.executable).with_name("handouts")
        self.process = subprocess.Popen(
            [str(handouts), "serve", "--port", str(self.port), "--workers", "2"], cwd=project.root,
            stdout=self.out.open("wb"), stderr=self.err.open("wb"), start_new_session=True)
        deadline = time.monotonic() + 120
        while "ready on" not in self.err.read_text(errors="replace"):
            assert self.process.poll() is None, self.err.read_text()
            assert time.monotonic() < deadline, "the server did not get ready"
            time.sleep(0.1)
        self.token = re.search(r'name="csrf" value="([^"]+)"', self.get("/")[2])[1]

    def get(self, path: str, headers: dict | None = None) -> tuple[int, dict, str]:
        request = urllib.request.Request(self.url + path.lstrip("/"), headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, dict(response.headers), response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read().decode("utf-8", "replace")

    def post(self, fields: dict, headers: dict | None = None, token: bool = True) -> tuple[int, dict, bytes]:
        body = urllib.parse.urlencode({**({"csrf": self.token} if token else {}), **fields}).encode()
        request = urllib.request.Request(self.url + "print", data=body, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read()

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        # The forkserver and its children (the workers): every process but the server's own.
        pids = []
        for pid in children:
            pids.append(int(pid))
            grand = Path(f"/proc/{pid}/task/{pid}/children")
            if grand.exists():
                pids += [int(p) for p in grand.read_text().split()]
        return pids

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Server:
    from handoutkit.outputs.build import build
    from tests.conftest import make_project

    tmp = tmp_path_factory.mktemp("server")
    project = make_project(tmp)
    build(project, locales=("en", "es"), workers=1, progress=lambda line: None)
    running = Server(project, tmp)
    yield running
    running.stop()


FORM = {"handout": "walking", "locale": "es", "patient_name": PLANTED, "procedure_date": "2027-03-14",
        "arrival_time": "07:30", "surgeon": "Dra. Chen", "instructions": "Traiga su lista de medicinas."}


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_prints_from_several_desks_at_once(server: Server) -> None:
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda i: server.post({**FORM, "patient_name": f"{PLANTED} {i}"}), range(6)))
    assert [status for status, _, _ in results] == [200] * 6
    for index, (_, headers, pdf) in enumerate(results):
        assert headers["Content-Type"] == "application/pdf" and headers["Cache-Control"] == "no-store"
        assert f"{PLANTED} {index}" in text_of(pdf)
    assert server.get("/status")[0] == 200


def test_every_worker_is_a_separate_warm_process(server: Server) -> None:
    assert len(server.worker_pids()) >= 2  # the forkserver and the two workers


def test_a_killed_worker_is_replaced_and_no_desk_gets_a_500(server: Server) -> None:
    workers = server.worker_pids()
    os.kill(workers[-1], signal.SIGKILL)
    statuses = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        status, headers, _ = server.post(FORM)
        statuses.append(status)
        if status == 200:
            break
        assert status == 503 and headers["Retry-After"].isdigit()
    assert statuses[-1] == 200, statuses


def test_cross_site_post_does_not_print_or_log(server: Server) -> None:
    before = server.project.root.joinpath("var", "print-log.sqlite3").stat().st_size
    status, _, body = server.post(FORM, headers={"Origin": "http://evil.example"})
    assert status == 403 and b"%PDF" not in body
    status, _, _ = server.post(FORM, token=False)
    assert status == 403
    assert server.project.root.joinpath("var", "print-log.sqlite3").stat().st_size == before


def test_any_host_header_is_refused(server: Server) -> None:
    assert server.get("/", headers={"Host": "attacker.example"})[0] == 400


@pytest.mark.parametrize("raw", [
    b"GARBAGE\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Long: " + b"a" * 70000 + b"\r\n\r\n",
    b"POST /print HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 999999999\r\n\r\n",
    b"POST /print HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"GET /%ff%fe HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET /pdf/es/..%2f..%2fhandouts%2fclinic.yaml HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
])
def test_malformed_http_gets_no_5xx(server: Server, raw: bytes) -> None:
    answer = b""
    with socket.create_connection(("127.0.0.1", server.port), timeout=20) as sock:
        try:
            sock.sendall(raw)
            try:
                sock.shutdown(socket.SHUT_WR)
            except OSError:  # ENOTCONN: the server answered and hung up while the request was still going out
                pass
            while chunk := sock.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass  # the server answered and hung up before reading it all: what it said is checked
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0
    assert status < 500, answer[:300]


def test_planted_patient_name_is_in_no_file_and_no_log(server: Server) -> None:
    # Successful prints, refusals and errors all carry the name in the request.
    assert server.post(FORM)[0] == 200
    assert server.post({**FORM, "surgeon": "<b>"})[0] == 400
    assert server.post({**FORM, "arrival_time": "٠٧:٣٠"})[0] == 400
    assert server.post({**FORM, "locale": "de"})[0] == 404
    assert server.post(FORM, headers={"Origin": "http://evil.example"})[0] == 403
    assert server.post(FORM, token=False)[0] == 403
    assert server.get("/?patient_name=" + urllib.parse.quote(PLANTED))[0] == 200
    time.sleep(1)  # the archive render finishes in the background
    needles = [PLANTED.encode(), PLANTED.split()[0].encode(), PLANTED.encode("utf-16-le")]
    leaks = []
    for path in [*server.project.root.rglob("*"), server.out, server.err]:
        if path.is_file():
            data = path.read_bytes()
            leaks += [str(path) for needle in needles if needle in data]
    assert leaks == []
    assert "Traceback" not in server.err.read_text()


def test_error_page_that_fails_logs_no_patient_data(monkeypatch, caplog, capsys, tmp_path: Path) -> None:
    """When rendering the error page itself fails, the log says where, never what was typed."""
    from handoutkit.desk import server as serve_module
    from tests.conftest import make_project
    from tests.test_frontdesk import Desk

    app = serve_module.create_app(make_project(tmp_path), state_dir=tmp_path / "var")
    desk = Desk(app)

    def broken(*args, **kwargs):
        raise RuntimeError(f"template blew up on {kwargs.get('values', {}).get('patient_name')}")

    monkeypatch.setattr(serve_module, "render_catalog_page", broken)
    caplog.set_level(logging.DEBUG)
    response = desk.post({**FORM, "surgeon": "<b>"})
    assert response.status_code == 400 and PLANTED not in response.get_data(as_text=True)
    assert "RuntimeError at test_desk_server.py" in caplog.text
    out, err = capsys.readouterr()
    assert PLANTED not in caplog.text + out + err


def test_busy_desk_gets_503_with_retry_after(tmp_path: Path) -> None:
    from handoutkit.desk.server import create_app
    from tests.conftest import make_project
    from tests.test_frontdesk import Desk

    app = create_app(make_project(tmp_path), state_dir=tmp_path / "var", queue=0)
    pool = app.config["desk"].pool
    pool.queue_wait = 0.05
    desk = Desk(app)
    assert pool._slots.acquire()  # noqa: SLF001 - every place is taken
    try:
        response = desk.post(FORM)
    finally:
        pool._slots.release()  # noqa: SLF001
    assert response.status_code == 503 and response.headers["Retry-After"] == "3"
    assert response.headers["Cache-Control"] == "no-store"
    assert desk.post(FORM).status_code == 200


def test_workers_end_when_the_server_is_killed(tmp_path: Path) -> None:
    from tests.conftest import make_project

    running = Server(make_project(tmp_path), tmp_path)
    workers = running.worker_pids()
    assert workers
    os.kill(running.process.pid, signal.SIGKILL)
    running.process.wait()
    deadline = time.monotonic() + 20
    while any(Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()
              for pid in workers):
        assert time.monotonic() < deadline, "render workers outlived the server"
        time.sleep(0.2)
