"""The prepared locale: one read of each PO file, and everything else from those bytes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from handoutkit.content.handouts import load_content
from handoutkit.outputs.build import build
from handoutkit.translation.prepared import prepare_locale

from .conftest import copy_repo

_watch: dict[str, list] = {}


def _audit(event: str, args: tuple) -> None:
    if event == "open" and _watch:
        path = str(args[0])
        for name, opened in _watch.items():
            if path == name:
                opened.append(path)


sys.addaudithook(_audit)  # audit hooks cannot be removed: it records only while _watch names a file


@pytest.fixture
def opened():
    def watch(path: Path) -> list:
        _watch[str(path)] = []
        return _watch[str(path)]

    yield watch
    _watch.clear()


@pytest.mark.slow  # renders PDFs
def test_a_build_opens_the_po_file_once(tmp_path: Path, opened) -> None:
    project = copy_repo(tmp_path)
    reads = opened(project.po_path("es"))
    result = build(project, locales=("es",), handout_ids=("warning-signs", "acdf"), workers=1, force=True,
                   progress=lambda line: None)
    assert result.ok, [str(p) for p in result.problems]
    assert len(result.outputs) == 6  # 2 handouts x (standard, large print, web edition)
    # msgfmt --check reads the same bytes on its standard input; our code opens the file once.
    assert len(reads) == 1, reads


def test_what_renders_is_what_was_checked(tmp_path: Path) -> None:
    """A PO edited after the checks cannot reach the PDF: the renderer uses the checked bytes."""
    project = copy_repo(tmp_path)
    content = load_content(project.handouts_dir, project.root)
    prepared = prepare_locale(project, "es", content)
    assert prepared.ok and prepared.mo
    before = prepared.translations.gettext("Trouble breathing or chest pain")
    po = project.po_path("es")
    po.write_text(po.read_text("utf-8").replace(f'msgstr "{before}"', 'msgstr "Dificultad para respirar o dolor fuerte en el pecho"'), "utf-8")
    assert prepared.translations.gettext("Trouble breathing or chest pain") == before
    again = prepare_locale(project, "es", content)
    assert again.translations.gettext("Trouble breathing or chest pain") == "Dificultad para respirar o dolor fuerte en el pecho"
    assert again.inputs != prepared.inputs


def test_a_broken_locale_says_why_in_one_line(tmp_path: Path) -> None:
    project = copy_repo(tmp_path)
    po = project.po_path("fa")
    lines = po.read_text("utf-8").splitlines(keepends=True)
    in_msgstr = [False]
    for line in lines:  # which lines belong to a msgstr (wrapped strings continue on "..." lines)
        in_msgstr.append(line.startswith("msgstr") or (in_msgstr[-1] and line.startswith('"')))
    at = next(i for i, line in enumerate(lines) if in_msgstr[i + 1] and "{clinic_phone}" in line)
    lines[at] = lines[at].replace("{clinic_phone}", "{clinic_fone}")
    po.write_text("".join(lines), "utf-8")
    prepared = prepare_locale(project, "fa", load_content(project.handouts_dir, project.root))
    assert not prepared.ok and prepared.mo == b""
    assert "placeholder mismatch" in prepared.reason and prepared.reason.startswith("locales/fa/")
    assert prepared.report is not None and prepared.report.errors


def test_a_registered_check_that_reads_a_file_puts_it_in_the_cache_key(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from handoutkit.translation import checks
    from handoutkit.translation.prepared import check_inputs

    project = copy_repo(tmp_path)
    extra = project.locales_dir / "es" / "terms.yaml"
    extra.write_text("terms: {}\n", "utf-8")
    before = check_inputs(project, "es")
    extra.write_text("terms: {walk: camine}\n", "utf-8")
    assert check_inputs(project, "es") == before, "an undeclared file is not an input"
    seen = []
    monkeypatch.setattr(checks, "CHECKS", (*checks.CHECKS, checks.Check(
        "terms", "warning", "file", lambda c: seen.append(c.locale) or [], reads=("locales/{locale}/terms.yaml",))))
    declared = check_inputs(project, "es")
    assert declared != before
    extra.write_text("terms: {walk: ande}\n", "utf-8")
    assert check_inputs(project, "es") != declared
    assert checks.check_locale(project, "es").complete and seen == ["es"]


@pytest.mark.slow  # renders PDFs
def test_a_preview_opens_the_po_file_once(tmp_path: Path, opened) -> None:
    """It parsed the same file three times (missing strings, translations, printable characters)."""
    from handoutkit.outputs.preview import preview

    project = copy_repo(tmp_path)
    reads = opened(project.po_path("es"))
    preview(project, "warning-signs", "es")
    assert len(reads) == 1, reads


def test_check_opens_the_po_file_once(tmp_path: Path, opened) -> None:
    from handoutkit.outputs.build import gate

    project = copy_repo(tmp_path)
    reads = opened(project.po_path("es"))
    assert gate(project, ("es",)).ok
    assert len(reads) == 1, reads
