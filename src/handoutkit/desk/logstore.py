"""Front desk, where the print log's rows live: SQLite (embedded, the default) or PostgreSQL.

The same table, the same columns and the same statements on both, through the
DB-API: several `handouts serve` processes (behind one address, or at several
sites) share one PostgreSQL log given with `--log-url postgresql://...`
(psycopg 3). Each store says which errors mean "cannot write now" (the row is
spooled and retried, printlog.PrintLog) and names itself without its password.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from handoutkit.errors import HandoutError

COLUMN_TYPES = """
  entry TEXT NOT NULL UNIQUE,           -- random id: a retried row is stored once; the FHIR identifier
  printed_at TEXT NOT NULL,             -- UTC, ISO 8601
  desk TEXT NOT NULL,                   -- the desk account (or address) that printed
  packet TEXT,                          -- the packet this handout was printed in, if any
  handout TEXT NOT NULL,
  revision INTEGER NOT NULL,
  edition TEXT NOT NULL,
  locale TEXT NOT NULL,
  english_sha256 TEXT NOT NULL,
  translation_sha256 TEXT NOT NULL,
  clinic_phone TEXT,                    -- only when the desk chose another of the clinic's numbers
  version_sha256 TEXT NOT NULL          -- the archived unpersonalised version
)"""
INSERTED = ("entry", "printed_at", "desk", "packet", "handout", "revision", "edition", "locale",
            "english_sha256", "translation_sha256", "clinic_phone", "version_sha256")
META_SCHEMA = "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"


class SqliteStore:
    """A SQLite file (mode 0600), written with WAL so that readers never block a desk."""

    kind = "sqlite"
    mark = "?"
    schema = "CREATE TABLE IF NOT EXISTS prints (\n  id INTEGER PRIMARY KEY," + COLUMN_TYPES
    errors: tuple[type[BaseException], ...] = (sqlite3.Error, OSError)

    def __init__(self, path: Path):
        self.path = path
        self.label = str(path)

    def exists(self) -> bool:
        return self.path.exists()

    def connect(self, read_only: bool = False) -> Any:
        if read_only:
            return sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=2)
        # A short busy timeout: a locked log must not hold up a print (the row is retried).
        fresh = not self.path.exists()
        db = sqlite3.connect(self.path, timeout=0.25)
        if fresh:  # only the server reads the log (SQLite gives its -wal and -shm files the same mode)
            os.chmod(self.path, 0o600)
        return db

    def prepare(self) -> None:
        db = self.connect()
        try:
            db.execute("PRAGMA journal_mode=WAL")
        finally:
            db.close()

    def insert_sql(self) -> str:
        marks = ",".join([self.mark] * len(INSERTED))
        return f"INSERT OR IGNORE INTO prints ({', '.join(INSERTED)}) VALUES ({marks})"


class PostgresStore:
    """A PostgreSQL database shared by several servers (psycopg 3)."""

    kind = "postgresql"
    mark = "%s"
    schema = "CREATE TABLE IF NOT EXISTS prints (\n  id BIGSERIAL PRIMARY KEY," + COLUMN_TYPES

    def __init__(self, url: str):
        try:
            import psycopg
        except ImportError:
            raise HandoutError("--log-url postgresql://... needs psycopg 3 (pip install psycopg)") from None
        self.url = url
        self.errors = (psycopg.Error, OSError)
        parts = urlsplit(url)
        netloc = parts.netloc.rsplit("@", 1)
        shown = f"{netloc[0].split(':')[0]}:***@{netloc[1]}" if len(netloc) == 2 else parts.netloc
        self.label = urlunsplit((parts.scheme, shown, parts.path, "", ""))  # never the password

    def exists(self) -> bool:
        return True

    def connect(self, read_only: bool = False) -> Any:
        import psycopg

        # A short connect timeout: a database that is down must not hold up a print (the row is spooled).
        return psycopg.connect(self.url, connect_timeout=2)

    def prepare(self) -> None:
        pass

    def insert_sql(self) -> str:
        marks = ",".join([self.mark] * len(INSERTED))
        return f"INSERT INTO prints ({', '.join(INSERTED)}) VALUES ({marks}) ON CONFLICT (entry) DO NOTHING"


def open_store(path: Path, url: str | None) -> SqliteStore | PostgresStore:
    if url is None:
        return SqliteStore(path)
    scheme = urlsplit(url).scheme
    if scheme in ("postgresql", "postgres"):
        return PostgresStore(url)
    if scheme == "sqlite":
        return SqliteStore(Path(urlsplit(url).path))
    raise HandoutError(f"--log-url {scheme}://...: expected postgresql://USER:PASSWORD@HOST/DATABASE "
                       "(or no --log-url for the SQLite log in the state directory)")
