"""The front desk under trouble: hung workers, crowds, slow-connection floods, a stop in the middle.

Each test runs `handouts serve` as a subprocess on a copy of the sample
project (tests.test_desk_server.Server) and measures what a desk sees.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.test_desk_server import FORM, Server, text_of

pytestmark = pytest.mark.slow  # servers under floods, hangs and SIGTERM (about a minute)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Server:
    from handoutkit.outputs.build import build
    from tests.conftest import make_project

    tmp = tmp_path_factory.mktemp("operable")
    project = make_project(tmp)
    build(project, locales=("en", "es"), workers=1, progress=lambda line: None)
    running = Server(project, tmp)
    yield running
    running.stop()


def timed_post(server: Server, fields: dict) -> tuple[int, dict, bytes, float]:
    started = time.monotonic()
    status, headers, body = server.post(fields)
    return status, headers, body, time.monotonic() - started


def status_of(server: Server) -> dict:
    return json.loads(server.get("/status")[2])


def render_workers(server: Server) -> list[int]:
    """The render worker processes: the children of the server's forkserver."""
    pid = server.process.pid
    workers = []
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        grand = Path(f"/proc/{child}/task/{child}/children")
        if grand.exists():
            workers += [int(p) for p in grand.read_text().split()]
    return workers


def test_desks_print_through_a_flood_of_slow_connections(server: Server) -> None:
    """200 connections each sending a request one header byte at a time: every desk print within 2 s,
    and the server drops the slow senders once they pass the read deadline."""
    slow: list[socket.socket] = []
    for _ in range(200):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        slow.append(sock)
    stop = threading.Event()

    def trickle() -> None:
        while not stop.wait(2.0):
            for sock in slow:
                try:
                    sock.sendall(b"a")
                except OSError:
                    pass

    threading.Thread(target=trickle, daemon=True).start()
    try:
        time.sleep(1.0)
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda i: timed_post(server, {**FORM, "patient_name": f"Desk {i}"}), range(4)))
        assert [r[0] for r in results] == [200] * 4
        assert max(r[3] for r in results) <= 2.0, [round(r[3], 2) for r in results]
        # Past the read deadline (10 s from a request's first byte) the slow senders are closed.
        time.sleep(13.0)
        closed = 0
        for sock in slow:
            sock.settimeout(0.5)
            try:
                closed += sock.recv(100) == b""
            except ConnectionResetError:
                closed += 1
            except socket.timeout:
                pass
        assert closed >= 190, closed
    finally:
        stop.set()
        for sock in slow:
            sock.close()
    assert server.post(FORM)[0] == 200


def test_fifty_desks_at_once_are_answered_within_ten_seconds(server: Server) -> None:
    with ThreadPoolExecutor(50) as pool:
        results = list(pool.map(lambda i: timed_post(server, {**FORM, "patient_name": f"Desk {i}"}), range(50)))
    statuses = [r[0] for r in results]
    assert set(statuses) <= {200, 503}, statuses
    assert statuses.count(200) >= 4
    assert all(r[1].get("Retry-After", "").isdigit() for r in results if r[0] == 503)
    assert max(r[3] for r in results) <= 10.0, sorted(round(r[3], 1) for r in results)[-5:]
    if 503 in statuses:
        assert "every worker busy past the wait bound" in server.err.read_text()


def test_a_hung_worker_gives_503_within_ten_seconds_and_is_replaced(server: Server) -> None:
    deadline = time.monotonic() + 60
    while any(status_of(server)["busy_seconds"]) or status_of(server)["archive_pending"]:
        assert time.monotonic() < deadline, status_of(server)  # the pool idle: the next jobs go to both workers
        time.sleep(0.2)
    workers = render_workers(server)
    assert sorted(workers) == sorted(status_of(server)["worker_pids"]) and len(workers) == 2, workers
    os.kill(workers[0], signal.SIGSTOP)
    try:
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda i: timed_post(server, {**FORM, "patient_name": f"Desk {i}"}),
                                    range(4)))
    finally:
        try:
            os.kill(workers[0], signal.SIGCONT)
        except ProcessLookupError:
            pass  # killed by the server, as it should be
    assert max(r[3] for r in results) <= 10.0, [round(r[3], 1) for r in results]
    assert 503 in [r[0] for r in results] and all(r[0] in (200, 503) for r in results)
    assert all(r[1]["Retry-After"].isdigit() for r in results if r[0] == 503)
    log = server.err.read_text()
    assert f"render worker {workers[0]} was stuck on a render" in log
    deadline = time.monotonic() + 120
    while status_of(server)["workers_up"] < 2 or workers[0] in render_workers(server):
        assert time.monotonic() < deadline, status_of(server)
        time.sleep(0.5)
    assert f"render worker {workers[0]} replaced by" in server.err.read_text()
    assert not Path(f"/proc/{workers[0]}").exists() or "zombie" in Path(f"/proc/{workers[0]}/status").read_text()
    statuses = [server.post(FORM)[0] for _ in range(4)]
    assert statuses == [200] * 4
    assert status_of(server)["ready"] is True


def test_sigterm_lets_the_prints_in_progress_finish(tmp_path: Path) -> None:
    """40 prints under way (several seconds of rendering for 2 workers) when SIGTERM comes: none is
    reset; each gets its PDF (or, past the wait bound, a 503 to retry), then the server ends."""
    from tests.conftest import make_project

    running = Server(make_project(tmp_path), tmp_path)

    def post(index: int) -> tuple[int, bytes]:
        try:
            status, _, body = running.post({**FORM, "patient_name": f"Desk {index}"})
            return status, body
        except OSError:  # reset, refused, or closed without an answer
            return 0, b""

    with ThreadPoolExecutor(40) as pool:
        futures = [pool.submit(post, i) for i in range(40)]
        time.sleep(0.3)
        running.process.send_signal(signal.SIGTERM)
        results = [f.result() for f in futures]
    statuses = [status for status, _ in results]
    assert set(statuses) <= {200, 503}, statuses
    assert statuses.count(200) >= 20, statuses
    for index, (status, pdf) in enumerate(results):
        if status == 200:
            assert f"Desk {index}" in text_of(pdf)
    assert running.process.wait(60) == 0
    log = running.err.read_text()
    assert "finishing the prints in progress" in log and "stopped" in log and "Traceback" not in log
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", running.port), timeout=2).close()


def test_a_render_fault_is_a_500_and_logged_without_patient_data(monkeypatch, caplog, tmp_path: Path) -> None:
    from handoutkit.desk import pool as pool_module
    from handoutkit.desk.pool import Rendered
    from handoutkit.desk.server import create_app
    from tests.conftest import make_project
    from tests.test_desk_server import PLANTED
    from tests.test_frontdesk import Desk

    app = create_app(make_project(tmp_path), state_dir=tmp_path / "var")
    desk = Desk(app)
    monkeypatch.setattr(pool_module, "render_print", lambda job, state=None: Rendered(None, error="ValueError at x.py:1"))
    response = desk.post(FORM)
    assert response.status_code == 500  # a server fault: 5xx monitoring must see it
    assert "fault in the print server" in response.get_data(as_text=True)
    assert "render failed: ValueError at x.py:1" in caplog.text and PLANTED not in caplog.text
