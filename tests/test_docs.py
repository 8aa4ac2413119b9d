"""The README is a short doorway, and every page it sends a reader to exists."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_the_readme_is_a_doorway() -> None:
    assert len((REPO / "README.md").read_text("utf-8").splitlines()) <= 150


def test_every_relative_link_in_the_readme_and_docs_exists() -> None:
    pages = [REPO / "README.md", REPO / "TRANSLATING.md", *sorted((REPO / "docs").glob("*.md"))]
    missing = []
    for page in pages:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text("utf-8")):
            if not (page.parent / target).exists():
                missing.append(f"{page.relative_to(REPO)} -> {target}")
    assert missing == []


def test_the_readme_names_the_two_commands() -> None:
    readme = (REPO / "README.md").read_text("utf-8")
    assert "make pdf" in readme and "make test" in readme
