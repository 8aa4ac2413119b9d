"""Errors users can act on.

A `HandoutError` is an expected user mistake (bad YAML, a broken PO file, a
missing font): the CLI prints its message and exits 1, without a traceback.
Anything else that escapes is a bug and keeps its traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Problem:
    """One finding, located as `path:line` (line 0 means the whole file)."""

    path: str
    line: int
    message: str
    severity: str = "error"  # "error" or "warning"

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        prefix = "" if self.severity == "error" else f"{self.severity}: "
        return f"{where}: {prefix}{self.message}"


class HandoutError(Exception):
    """An expected, user-fixable problem: printed cleanly, exit status 1."""


class ProblemsError(HandoutError):
    """Several problems found at once: all are reported, then one abort."""

    def __init__(self, problems: list[Problem], what: str = "problem"):
        self.problems = sorted(problems)
        count = len(self.problems)
        lines = [str(p) for p in self.problems]
        lines.append(f"{count} {what}{'s' if count != 1 else ''} found; nothing was written.")
        super().__init__("\n".join(lines))


def relative(path: Path, root: Path) -> str:
    """Show `path` relative to the project root when it lies inside it."""
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)
