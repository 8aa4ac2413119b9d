"""Writing files so that nothing is ever half-written.

Every output (PO, POT, PDF, HTML) goes to a temporary file in the same folder
and is renamed over the target: a reader, or a killed build, sees either the
old file or the new one.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


def atomic_write(path: Path, data: bytes, durable: bool = True, mode: int = 0o644) -> None:
    """Write `data` to `path` through a temporary file and a rename.

    The rename alone protects against a killed process. `durable` also syncs
    the data to disk first, against a power cut: worth it for sources (PO
    files), not for build outputs that a rebuild makes again. `mode` 0o600 for
    what only the server may read (the print log's spool, archive, accounts).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _without_creation_date(data: bytes) -> bytes:
    return b"\n".join(line for line in data.splitlines()
                      if not line.startswith(b'"POT-Creation-Date:'))


def same_but_creation_date(old: bytes, new: bytes) -> bool:
    """Two POT files that differ at most in their creation date."""
    return old == new or _without_creation_date(old) == _without_creation_date(new)


def write_if_changed(path: Path, data: bytes, ignore_creation_date: bool = False) -> bool:
    """Replace `path` unless it already holds the same content; True if written.

    With `ignore_creation_date`, a POT whose only change is its date is left
    alone (no churn in version control).
    """
    if path.exists():
        old = path.read_bytes()
        if old == data:
            return False
        if ignore_creation_date and same_but_creation_date(old, data):
            return False
    atomic_write(path, data)
    return True


PACKAGE_DIR = Path(__file__).resolve().parent


def code_files() -> list[Path]:
    """Every module of handoutkit: what an output depends on besides its data (the code fingerprint)."""
    return sorted(PACKAGE_DIR.rglob("*.py"))


def hash_files(digest: "hashlib._Hash", paths: list[Path], root: Path | None = None) -> None:
    """Feed each file's path (relative to `root` when given) and bytes to `digest`, in a stable order."""
    for path in sorted(paths):
        name = path.relative_to(root) if root is not None else path
        digest.update(str(name).encode() + b"\0" + path.read_bytes() + b"\0")

