"""Front desk, audit: the print log and the archive of every version that was printed.

The log answers "which handout, in which version, did this patient get?"
without holding anything about the patient: handout, revision, edition,
locale, fingerprints of the English and of the translation, the clinic phone
when a desk changed it, the desk and the time. It lives in the state
directory (`var/` by default, outside build/, so `make clean` keeps it).

Writing the log never blocks a print and never loses one: a row that cannot be
written (log locked, deleted, read-only, disk full) is kept in memory and in a
spool file when one can be written, retried in the background, and reported
(the desk sees a warning, the server's log says why). Rows carry a random id,
so a retried row is stored once.

Every distinct unpersonalised version is archived once, content-addressed
(`archive/<sha256 of the PDF>.pdf`, found through `archive/versions/<version
key>`), so `handouts reprint LOG_ID` gives back exactly what that patient got,
less the patient's own details.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from handoutkit.desk.logstore import META_SCHEMA, open_store
from handoutkit.errors import HandoutError
from handoutkit.files import atomic_write

LOG_FILE = "print-log.sqlite3"
SPOOL_FILE = "print-log.pending.jsonl"
ARCHIVE_DIR = "archive"
logger = logging.getLogger("handoutkit.desk")

COLUMNS = ("id", "printed_at", "desk", "packet", "handout", "revision", "edition", "locale",
           "english_sha256", "translation_sha256", "clinic_phone", "version_sha256", "entry")
# Which database this is (the `meta` table): a log deleted or replaced (restored from an old backup,
# say) is a different database, with ids that start again; the server notices and says so.
ID_FILE = "print-log.id"  # beside the log: the id of the database the server last wrote to


@dataclass(frozen=True)
class LogRow:
    printed_at: str
    desk: str
    packet: str | None
    handout: str
    revision: int
    edition: str
    locale: str
    english_sha256: str
    translation_sha256: str
    clinic_phone: str | None
    version_sha256: str
    entry: str = dataclasses.field(default_factory=lambda: uuid.uuid4().hex)


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def private_dir(path: Path) -> None:
    """A folder only the server's user can enter (0700): the log says who printed what, and when."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o700)


class PrintLog:
    """The log (SQLite, or PostgreSQL with a log URL), a spool for rows not yet written, and the archive."""

    def __init__(self, state_dir: Path, log_path: Path | None = None, log_url: str | None = None,
                 archive_dir: Path | None = None):
        self.state_dir = state_dir
        self.path = log_path or state_dir / LOG_FILE  # the spool and the id file live beside it
        self.store = open_store(self.path, log_url)
        self.where = self.store.label
        self.spool = self.path.with_name(SPOOL_FILE)
        # Servers sharing a log may share the archive too (any shared folder: content-addressed files
        # written by rename, so two servers archiving one version write the same bytes).
        self.archive_dir = archive_dir or state_dir / ARCHIVE_DIR
        self.pending: list[LogRow] = []
        self.last_error = ""
        self._lock = threading.Lock()
        self.id_file = self.path.with_name(ID_FILE)
        self.database_id: str | None = None  # the database this server has been writing to
        try:
            private_dir(self.state_dir)
            private_dir(self.path.parent)
            self.pending = self._read_spool()
            self._insert([])
            # SQLite: write-ahead logging, one sync per print instead of three, and readers
            # (`handouts print-log`) never block a desk.
            self.store.prepare()
        except self.store.errors as exc:
            self._failed(exc, 0)
        self.flush()

    @classmethod
    def reader(cls, state_dir: Path, log_path: Path | None = None, log_url: str | None = None,
               archive_dir: Path | None = None) -> "PrintLog":
        """The log for reading only (`handouts print-log`, `reprint`): creates nothing."""
        log = cls.__new__(cls)
        log.state_dir, log.path = state_dir, log_path or state_dir / LOG_FILE
        log.store = open_store(log.path, log_url)
        log.where = log.store.label
        log.spool, log.archive_dir = log.path.with_name(SPOOL_FILE), archive_dir or state_dir / ARCHIVE_DIR
        log.pending, log.last_error, log._lock = [], "", threading.Lock()
        if not log.store.exists():
            raise HandoutError(f"{log.path}: no print log yet (it is written by `handouts serve`; "
                               "see --state-dir)")
        return log

    # -------------------------------------------------------- writing

    def _insert(self, rows: list[LogRow]) -> None:
        db = self.store.connect()
        try:
            cursor = db.cursor()
            cursor.execute(self.store.schema)  # the file may have been deleted since: start a new one
            self._check_identity(cursor)
            if rows:
                cursor.executemany(self.store.insert_sql(), [
                    (r.entry, r.printed_at, r.desk, r.packet, r.handout, r.revision, r.edition, r.locale,
                     r.english_sha256, r.translation_sha256, r.clinic_phone, r.version_sha256) for r in rows])
            db.commit()
        finally:
            db.close()

    def _check_identity(self, cursor: Any) -> None:
        """Give a new database its id; log loudly when the database is not the one written before."""
        cursor.execute(META_SCHEMA)
        cursor.execute("SELECT value FROM meta WHERE key = 'database_id'")
        found = cursor.fetchone()
        current = found[0] if found else uuid.uuid4().hex
        if not found:
            cursor.execute(f"INSERT INTO meta (key, value) VALUES ('database_id', {self.store.mark})", (current,))
        before = self.database_id
        if before is None and self.id_file.exists():
            before = self.id_file.read_text("ascii", errors="replace").strip() or None
        if before is not None and before != current:
            logger.error("print log %s is not the database written before (database %s, now %s): it was "
                         "deleted or replaced, so the earlier prints are not in it and its ids start again. "
                         "Restore it from the backup if that was not intended.", self.where, before[:12], current[:12])
        if before != current:
            atomic_write(self.id_file, (current + "\n").encode(), durable=True, mode=0o600)
        self.database_id = current

    def _failed(self, exc: BaseException, count: int) -> None:
        # Only the exception's own text: it names the file and the reason, never a patient.
        self.last_error = f"{type(exc).__name__}: {exc}"
        logger.error("print log %s: cannot write (%s); %d row(s) kept and retried",
                     self.where, self.last_error, count)

    def record(self, rows: list[LogRow]) -> bool:
        """Write the rows now; False when they were kept for a retry (the desk is warned)."""
        with self._lock:
            batch = self.pending + rows
            try:
                self._insert(batch)
            except self.store.errors as exc:
                self.pending = batch
                self._failed(exc, len(batch))
                self._write_spool()
                return False
            if self.pending:
                logger.warning("print log %s: %d pending row(s) written", self.where, len(self.pending))
            self.pending = []
            self.last_error = ""
            self._write_spool()
            return True

    def flush(self) -> bool:
        """Retry the pending rows (the server calls this every few seconds)."""
        if not self.pending:
            return True
        return self.record([])

    def _write_spool(self) -> None:
        """Pending rows also go to a file beside the log, so a restart does not lose them."""
        try:
            if self.pending:
                text = "".join(json.dumps(dataclasses.asdict(r), sort_keys=True) + "\n" for r in self.pending)
                atomic_write(self.spool, text.encode(), durable=True, mode=0o600)
            else:
                self.spool.unlink(missing_ok=True)
        except OSError:
            pass  # the disk refuses even this: the rows stay in memory and are retried

    def _read_spool(self) -> list[LogRow]:
        if not self.spool.exists():
            return []
        rows = []
        for line in self.spool.read_text("utf-8").splitlines():
            try:
                rows.append(LogRow(**json.loads(line)))
            except (ValueError, TypeError):
                logger.error("print log spool %s: an unreadable line was skipped", self.spool)
        return rows

    # -------------------------------------------------------- reading

    def rows(self) -> list[dict]:
        """Every logged print, oldest first (pending rows are not included)."""
        if not self.store.exists():
            return []
        try:
            db = self.store.connect(read_only=True)
            try:
                cursor = db.cursor()
                cursor.execute(f"SELECT {', '.join(COLUMNS)} FROM prints ORDER BY id")
                found = cursor.fetchall()
            finally:
                db.close()
        except self.store.errors as exc:
            raise HandoutError(f"{self.where}: cannot read the print log ({exc})") from None
        return [dict(zip(COLUMNS, row)) for row in found]

    def row(self, log_id: int) -> dict:
        for row in self.rows():
            if row["id"] == log_id:
                return row
        raise HandoutError(f"{self.where}: no print with id {log_id} (see `handouts print-log`)")

    # -------------------------------------------------------- retention

    def forget_before(self, cutoff: dt.datetime) -> tuple[int, int]:
        """Delete the rows printed before `cutoff` and the archived versions no row still names.

        Returns (rows deleted, archive files deleted). Run by the server at start and daily
        with --keep-days.
        """
        stamp = cutoff.astimezone(dt.timezone.utc).isoformat(timespec="seconds")
        with self._lock:
            db = self.store.connect()
            try:
                cursor = db.cursor()
                cursor.execute(self.store.schema)
                cursor.execute(f"DELETE FROM prints WHERE printed_at < {self.store.mark}", (stamp,))
                deleted = cursor.rowcount
                cursor.execute("SELECT DISTINCT version_sha256 FROM prints")
                kept = {row[0] for row in cursor.fetchall()}
                db.commit()
            finally:
                db.close()
            kept |= {row.version_sha256 for row in self.pending}
        removed = 0
        versions = self.archive_dir / "versions"
        pointers = list(versions.iterdir()) if versions.is_dir() else []
        live: set[str] = set()
        for pointer in pointers:
            if pointer.name in kept or pointer.stat().st_mtime >= cutoff.timestamp():
                live.add(pointer.read_text().strip())
            else:
                pointer.unlink(missing_ok=True)
                removed += 1
        for pdf in self.archive_dir.glob("*.pdf") if self.archive_dir.is_dir() else ():
            if pdf.stem not in live and pdf.stat().st_mtime < time.time() - 3600:  # not one being archived now
                pdf.unlink(missing_ok=True)
                removed += 1
        if deleted or removed:
            logger.info("retention: deleted %d print log row(s) from before %s and %d archive file(s)",
                        deleted, stamp, removed)
        return deleted, removed

    # -------------------------------------------------------- the archive

    def _pointer(self, version_key: str) -> Path:
        return self.archive_dir / "versions" / version_key

    def archived(self, version_key: str) -> bool:
        return self._pointer(version_key).exists()

    def archive(self, version_key: str, pdf: bytes) -> bool:
        """Keep one unpersonalised version, content-addressed; False when it could not be written."""
        digest = hashlib.sha256(pdf).hexdigest()
        try:
            target = self.archive_dir / f"{digest}.pdf"
            private_dir(self.archive_dir)
            private_dir(self._pointer(version_key).parent)
            if not target.exists():
                atomic_write(target, pdf, mode=0o600)
            atomic_write(self._pointer(version_key), (digest + "\n").encode(), mode=0o600)
            return True
        except OSError as exc:
            logger.error("print archive %s: cannot write (%s: %s); retried at the next print",
                         self.archive_dir, type(exc).__name__, exc)
            return False

    def archived_pdf(self, version_key: str) -> bytes:
        """The archived PDF of a version, checked against its content address."""
        pointer = self._pointer(version_key)
        if not pointer.exists():
            raise HandoutError(f"{self.archive_dir}: version {version_key[:12]} was not archived "
                               "(the server archives it right after the first print; was it stopped?)")
        digest = pointer.read_text().strip()
        data = (self.archive_dir / f"{digest}.pdf").read_bytes()
        if hashlib.sha256(data).hexdigest() != digest:
            raise HandoutError(f"{self.archive_dir / digest}.pdf: damaged (its content no longer matches its name)")
        return data
