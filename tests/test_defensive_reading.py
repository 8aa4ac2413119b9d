"""Defensive reading of translators' files: every fault is named before any tool touches the file.

Each test takes a real catalog of the repository (Haitian Creole: many accented
letters, em dashes) through what a translator's editor or a merge does to it,
with the real tools (iconv, msgmerge, git), then runs `handouts check` and
`handouts update` as a coordinator would.
"""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
from pathlib import Path

import pytest

from handoutkit.cli import main
from handoutkit.content.settings import Project
from handoutkit.translation.checks import check_locale

from .conftest import REPO, copy_repo

LABEL = "locales/ht/LC_MESSAGES/handouts.po"


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return copy_repo(tmp_path)


def run(project: Project, *command: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            code = main(["-C", str(project.root), *command])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return code, out.getvalue()


def lines_with(data: bytes, needle: bytes) -> int:
    return sum(1 for line in data.split(b"\n") if needle in line)


def test_a_charset_header_that_lies_is_refused_and_update_writes_nothing(project: Project) -> None:
    path = project.po_path("ht")
    lying = path.read_bytes().replace(b"charset=UTF-8", b"charset=ISO-8859-1")
    path.write_bytes(lying)
    line = lying[: lying.index(b'"Content-Type')].count(b"\n") + 1
    report = check_locale(project, "ht")
    assert [(p.line, p.severity) for p in report.problems] == [(line, "error")], report.problems
    assert "the header says charset=ISO-8859-1 but the text is UTF-8" in report.problems[0].message
    assert 'charset=UTF-8\\n"' in report.problems[0].message, "the message gives the exact fix"
    pot = project.pot_path.read_bytes()
    code, output = run(project, "update")
    assert code == 1 and "Traceback" not in output
    assert f"{LABEL}:{line}: the header says charset=ISO-8859-1" in output, output
    assert path.read_bytes() == lying, "update wrote the catalog (the old code double-encoded 154 lines)"
    assert project.pot_path.read_bytes() == pot
    assert lines_with(path.read_bytes(), "Ã".encode()) == 0


def test_text_already_double_encoded_is_an_error_at_its_entry(project: Project) -> None:
    """What the old update wrote from a lying header (msgmerge converts it to UTF-8 a second time)."""
    path = project.po_path("ht")
    lying = path.read_bytes().replace(b"charset=UTF-8", b"charset=ISO-8859-1")
    mojibake = subprocess.run(["msgmerge", "--quiet", "--previous", "-o", "-", "-", str(project.pot_path)],
                              input=lying, capture_output=True, check=True).stdout
    assert "Ã".encode() in mojibake and "Ã".encode() not in lying
    path.write_bytes(mojibake)
    report = check_locale(project, "ht")
    double = [p for p in report.errors if "double-encoded" in p.message]
    assert len(double) > 100, len(double)
    assert all(p.line > 1 for p in double), "each at its entry's line"
    # Some letters come back with U+0080..U+009F controls, which no font can draw (WeasyPrint's .notdef).
    assert any(re.search(r"control character\(s\) U\+00[89]", p.message) for p in report.errors)
    assert not report.complete


def test_crlf_is_normalised_on_read_and_update_leaves_no_cr(project: Project) -> None:
    path = project.po_path("ht")
    committed = path.read_bytes()
    windows = committed.replace(b"\n", b"\r\n")  # what a Windows editor saves
    path.write_bytes(windows)
    assert check_locale(project, "ht").complete
    code, output = run(project, "update", "--locale", "ht")
    assert code == 0, output
    cr = lines_with(path.read_bytes(), b"\r")
    assert cr == 0, f"{cr} lines keep a CR"
    assert path.read_bytes() == committed


def test_gitattributes_keeps_catalogs_lf() -> None:
    rules = (REPO / ".gitattributes").read_text("utf-8").splitlines()
    assert "*.po text eol=lf" in rules and "*.pot text eol=lf" in rules
    for name in ("locales/es/LC_MESSAGES/handouts.po", "locales/handouts.pot"):
        attrs = subprocess.run(["git", "-C", str(REPO), "check-attr", "eol", "--", name],
                               capture_output=True, text=True, check=True).stdout
        assert attrs.strip().endswith("eol: lf"), attrs


def test_utf16_is_named_with_its_fix(project: Project) -> None:
    path = project.po_path("ht")
    utf16 = subprocess.run(["iconv", "-f", "UTF-8", "-t", "UTF-16", str(path)], capture_output=True,
                           check=True).stdout
    path.write_bytes(utf16)
    [problem] = check_locale(project, "ht").problems
    assert problem.line == 1 and "the file is UTF-16" in problem.message and "save it as UTF-8" in problem.message
    code, output = run(project, "update")
    assert code == 1 and f"{LABEL}:1: the file is UTF-16" in output and "Traceback" not in output
    assert path.read_bytes() == utf16


def test_git_merge_conflict_markers_are_named(project: Project, tmp_path: Path) -> None:
    """A real conflicted merge: two branches change the same translation."""
    root = project.root
    git = ["git", "-C", str(root), "-c", "user.email=t@example.invalid", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "base"], check=True)
    path = project.po_path("ht")
    text = path.read_text("utf-8")
    old = 'msgstr "Diskektomi ak fizyon sèvikal anteryè (ACDF)"'
    assert old in text
    subprocess.run([*git, "checkout", "-qb", "agency"], check=True)
    path.write_text(text.replace(old, 'msgstr "Diskektomi ak fizyon kou devan (ACDF)"'), "utf-8")
    subprocess.run([*git, "commit", "-qam", "agency"], check=True)
    subprocess.run([*git, "checkout", "-q", "main"], check=True)
    path.write_text(text.replace(old, 'msgstr "Diskektomi ak fizyon sèvikal pa devan (ACDF)"'), "utf-8")
    subprocess.run([*git, "commit", "-qam", "main"], check=True)
    merge = subprocess.run([*git, "merge", "-q", "agency"], capture_output=True)
    assert merge.returncode != 0
    conflicted = path.read_bytes()
    marker = conflicted.split(b"\n").index(b"<<<<<<< HEAD") + 1
    report = check_locale(project, "ht")
    assert any(p.line == marker and "git merge-conflict marker '<<<<<<<'" in p.message for p in report.errors), \
        report.problems
    assert {p.line for p in report.errors} == {marker, marker + 2, marker + 4}
    code, output = run(project, "update")
    assert code == 1 and f"{LABEL}:{marker}: git merge-conflict marker" in output, output
    assert path.read_bytes() == conflicted


def test_a_save_that_drops_the_draft_header_and_translator_comments_is_warned(project: Project) -> None:
    root = project.root
    git = ["git", "-C", str(root), "-c", "user.email=t@example.invalid", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "base"], check=True)
    assert not [p for p in check_locale(project, "ht").problems if "comment" in p.message]
    path = project.po_path("ht")
    # An editor that keeps only what it understands: no `# ` comments at all.
    path.write_text("".join(line for line in path.read_text("utf-8").splitlines(keepends=True)
                            if not line.startswith("# ")), "utf-8")
    report = check_locale(project, "ht")
    found = [p for p in report.problems if "comment" in p.message]
    assert [p.severity for p in found] == ["warning", "warning"], found
    assert any(p.line == 1 and "MACHINE DRAFT header comment" in p.message for p in found)
    assert any("back-translation notes" in p.message and p.line > 1 for p in found)
    assert report.complete, "a warning, never blocking"
