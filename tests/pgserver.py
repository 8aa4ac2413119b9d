"""A throwaway PostgreSQL server for tests: initdb and pg_ctl in a temporary folder (Debian `postgresql`).

As root (`.ci/run`), the server runs as the `postgres` user, since PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def _tool(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    return next((str(v / name) for v in versions if (v / name).exists()), None)


def available() -> bool:
    return _tool("initdb") is not None and _tool("pg_ctl") is not None


class PgServer:
    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="handoutkit-pg-"))
        self.data = self.folder / "data"
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run(_tool("initdb"), "-D", str(self.data), "--auth=trust", "-U", "postgres", "--encoding=UTF8",
                  "--no-sync")
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str | None) -> None:
        command = [a for a in args if a is not None]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120, cwd=self.folder)

    def start(self) -> None:
        self._run(_tool("pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "log.txt"), "-w", "-t", "60",
                  "-o", f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                assert time.monotonic() < deadline, "PostgreSQL did not start"
                time.sleep(0.2)

    def stop(self) -> None:
        self._run(_tool("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.folder, ignore_errors=True)
