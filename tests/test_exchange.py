"""Agencies: XLIFF 1.2 export and import through Translate Toolkit, and the TMX memory."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from translate.storage import tmx

from handoutkit.content.settings import Project
from handoutkit.errors import ProblemsError
from handoutkit.translation.catalogs import load_catalog
from handoutkit.translation.exchange import export_tmx, export_xliff, import_xliff
from handoutkit.translation.review import record_review

from .conftest import copy_repo, run_cli
from .signing import approver

XLIFF_12 = 'xmlns="urn:oasis:names:tc:xliff:document:1.2" version="1.2"'


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return copy_repo(tmp_path_factory.mktemp("exchange"))


@pytest.mark.slow
def test_export_then_import_changes_no_byte_in_any_locale(project: Project) -> None:
    for locale in project.settings.translated_locales:
        before = project.po_path(locale).read_bytes()
        exported = export_xliff(project, locale)
        assert exported.units == exported.translated == len([m for m in load_catalog(project, locale) if m.id])
        result = import_xliff(project, exported.path)
        assert (result.changed, result.written) == (0, False), locale
        assert project.po_path(locale).read_bytes() == before, locale


def test_placeholders_and_bold_travel_as_locked_inline_elements(project: Project) -> None:
    text = export_xliff(project, "es").path.read_text("utf-8")
    assert XLIFF_12 in text and 'target-language="es"' in text
    assert '<ph id="clinic_phone">{clinic_phone}</ph>' in text
    assert '<ph id="page">%(page)s</ph>' in text
    assert re.search(r'<g id="b1">[^<]+</g>', text)
    assert "**" not in text, "bold markers must not travel as typeable text"


def test_reordered_and_emptied_placeholders_come_back(project: Project) -> None:
    path = export_xliff(project, "ko").path
    text = path.read_text("utf-8")
    # ko puts %(pages)s before %(page)s; a CAT tool may also write a <ph> as an empty element.
    assert re.search(r'<target[^>]*><ph id="pages">%\(pages\)s</ph>', text)
    path.write_text(text.replace('<ph id="pages">%(pages)s</ph>', '<ph id="pages"/>'), "utf-8")
    before = project.po_path("ko").read_bytes()
    assert import_xliff(project, path).written is False
    assert project.po_path("ko").read_bytes() == before


def test_a_translated_unit_is_imported_canonical_and_checked(project: Project, tmp_path: Path) -> None:
    po = project.po_path("es")
    committed = po.read_bytes()
    path = export_xliff(project, "es", tmp_path / "es.xlf").path
    text = path.read_text("utf-8")
    old = "Descanse cuando lo necesite."
    if old not in text:
        old = re.search(r'<target state="translated">([^<{]{20,60})</target>', text)[1]
    path.write_text(text.replace(old, old + " Camine un poco cada día y beba agua a menudo.", 1), "utf-8")
    try:
        result = import_xliff(project, path)
        assert result.changed == 1 and result.written
        data = po.read_bytes()
        assert subprocess.run(["msgcat", str(po)], capture_output=True, check=True).stdout == data
        assert subprocess.run(["msgfmt", "--check", "-o", "/dev/null", str(po)]).returncode == 0
        assert any(m.string.endswith("beba agua a menudo.") for m in load_catalog(project, "es") if m.id)
    finally:
        po.write_bytes(committed)


def test_a_deleted_placeholder_is_reported_at_the_xliff_line(project: Project, tmp_path: Path) -> None:
    path = export_xliff(project, "es", tmp_path / "es.xlf").path
    lines = path.read_text("utf-8").splitlines(keepends=True)
    number = next(i for i, line in enumerate(lines, 1)
                  if line.lstrip().startswith("<target") and '<ph id="clinic_phone">' in line)
    lines[number - 1] = lines[number - 1].replace('<ph id="clinic_phone">{clinic_phone}</ph>', "")
    path.write_text("".join(lines), "utf-8")
    before = project.po_path("es").read_bytes()
    with pytest.raises(ProblemsError) as caught:
        import_xliff(project, path)
    assert any(p.line == number and "placeholder mismatch: missing clinic_phone" in p.message
               for p in caught.value.problems), caught.value
    assert all(p.path == str(path) or p.path.endswith("es.xlf") for p in caught.value.problems)
    assert project.po_path("es").read_bytes() == before, "nothing may be written"


def test_a_broken_or_foreign_xliff_is_a_clean_error(project: Project, tmp_path: Path) -> None:
    broken = tmp_path / "broken.xlf"
    broken.write_text("<xliff version='1.2'><file>", "utf-8")
    with pytest.raises(ProblemsError, match="not a readable XLIFF file"):
        import_xliff(project, broken)
    stale = export_xliff(project, "es", tmp_path / "stale.xlf").path
    stale.write_text(stale.read_text("utf-8").replace('id="bf31b85b325d3741"', 'id="0000000000000000"'), "utf-8")
    with pytest.raises(ProblemsError, match="the English changed since the export"):
        import_xliff(project, stale)


def test_cli_reports_problems_at_file_line(project: Project, tmp_path: Path) -> None:
    path = tmp_path / "es.xlf"
    run = run_cli(project, "export-xliff", "es", "-o", str(path))
    assert run.returncode == 0, run.stderr
    lines = path.read_text("utf-8").splitlines(keepends=True)
    number = next(i for i, line in enumerate(lines) if line.lstrip().startswith("<target") and "<g " in line)
    lines[number] = re.sub(r"</?g[^>]*>", "", lines[number])  # the agency lost the bold
    path.write_text("".join(lines), "utf-8")
    run = run_cli(project, "import-xliff", str(path))
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert f"{path}:{number + 1}: emphasis differs" in run.stderr, run.stderr


def test_tmx_holds_reviewed_translations_only(project: Project, tmp_path: Path) -> None:
    empty = export_tmx(project, tmp_path / "none.tmx")
    assert empty.units == 0 and "es" in empty.skipped
    from handoutkit.translation.review import (
        SheetRow,
        back_translations_path,
        open_safety_entries,
    )

    review = project.locales_dir / "es" / "review.yaml"
    catalog = load_catalog(project, "es")
    # The file's own back-translation comments stand in for the reviewer's; the coordinator confirms
    # any row the verification disputes.
    prefix = "back-translation (machine draft, not a human review):"
    rows = [SheetRow(line, m.context, str(m.id), str(m.string),
                     " ".join(m.user_comments).split(prefix, 1)[1].split(" fixed: ")[0].strip(), "confirmed: A. Coord")
            for line, m in enumerate(open_safety_entries(project, "es", catalog), 2)]
    try:
        # A locale counts as reviewed once every safety-critical entry has its back-translation too.
        record_review(project, "es", catalog, "Ana Ruiz, CMI", approver(project, "ana"), back_translations=rows)
        result = export_tmx(project, tmp_path / "es.tmx")
        translated = [m for m in load_catalog(project, "es") if m.id and m.string and not m.fuzzy]
        assert result.locales == ("es",) and result.units == len(translated) > 150
        memory = tmx.tmxfile.parsestring(result.path.read_bytes())
        pairs = {u.source: u.target for u in memory.units}
        assert pairs["Trouble breathing or chest pain"] == next(m.string for m in load_catalog(project, "es")
                                                                if m.id == "Trouble breathing or chest pain")
    finally:
        review.unlink(missing_ok=True)
        back_translations_path(project, "es").unlink(missing_ok=True)
