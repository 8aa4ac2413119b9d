"""The one shape of a check, whatever it looks at (Babel's checkers are the model).

Every check of the project, from the translation checks of `handouts check` to
the health-literacy checks of `handouts lint`, is a `Check`: a name, the
severity of what it finds, the scope it looks at, the files it reads, and a
`run` that takes one context object of its scope and yields problems. The
registry is one tuple, `handoutkit.translation.checks.CHECKS`; each runner
takes the checks of its scope from it (`of_scope`). The shape lives here, in
the lowest layer that has checks, so the content layer's checks can have it too.

Scopes, and the context `run` receives:

- `entry`: one translated entry of a PO file (translation.checks.EntryContext);
- `file`: a whole PO file, read once (translation.checks.Context);
- `handout`: one English handout (content.lint.HandoutContext);
- `library`: every handout and what the last build recorded (content.lint.LintLibrary).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable

from handoutkit.errors import Problem

SCOPES = ("entry", "file", "handout", "library")


@dataclass(frozen=True)
class Check:
    name: str
    severity: str  # "error" blocks; "warning" is shown. A finding may name its own (Translate Toolkit's do)
    scope: str  # one of SCOPES
    run: Callable[[Any], Iterable[Problem]]  # takes the context of its scope
    # Files it reads besides what its scope hands it (the PO file, the content), relative to the
    # project root, "{locale}" filled in: they are part of the locale's cache key the moment it is registered.
    reads: tuple[str, ...] = ()
    needs_clean_syntax: bool = False  # a file check skipped while GNU msgfmt reports an error

    def __post_init__(self) -> None:
        if self.scope not in SCOPES:  # a typo would make a check that never runs
            raise ValueError(f"check {self.name!r}: scope {self.scope!r} is not one of {', '.join(SCOPES)}")


def of_scope(checks: Iterable[Check], scope: str) -> tuple[Check, ...]:
    """The checks of the registry that look at `scope`, in registry order."""
    return tuple(check for check in checks if check.scope == scope)


def run_checks(checks: Iterable[Check], scope: str, context: Any) -> list[Problem]:
    """Every problem the checks of `scope` find in `context`."""
    return [problem for check in of_scope(checks, scope) for problem in check.run(context)]
