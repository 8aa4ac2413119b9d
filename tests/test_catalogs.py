"""Catalogs: init-locale, update keeps every translation, atomic writes."""

from __future__ import annotations

import pytest
from babel.messages.pofile import read_po

from handoutkit.content.settings import Project
from handoutkit.errors import HandoutError, ProblemsError
from handoutkit.translation.catalogs import (
    MACHINE_DRAFT_COMMENT,
    init_locale,
    load_catalog,
    update,
)
from handoutkit.translation.extract import extract


def test_init_locale_creates_an_empty_catalog(sample: Project) -> None:
    result = init_locale(sample, "pt_BR", machine_draft=True)
    catalog = load_catalog(sample, "pt_BR")
    assert result.messages == len(catalog) > 10
    assert all(not m.string for m in catalog if m.id)
    assert "MACHINE DRAFT" in catalog.header_comment
    assert MACHINE_DRAFT_COMMENT.splitlines()[0] in result.path.read_text()


def test_init_locale_refuses_to_overwrite_and_unknown_locales(sample: Project) -> None:
    before = sample.po_path("es").read_bytes()
    with pytest.raises(HandoutError, match="already exists"):
        init_locale(sample, "es")
    assert sample.po_path("es").read_bytes() == before
    with pytest.raises(HandoutError, match="unknown locale 'xx_Nope'"):
        init_locale(sample, "xx_Nope")


def test_update_keeps_translations_and_marks_changed_english_fuzzy(sample: Project) -> None:
    path = sample.handouts_dir / "walking.yaml"
    path.write_text(path.read_text()
                    .replace("Rest when you are tired.", "Rest when you are very tired.")
                    .replace("      - steps:\n          - Stand up slowly.\n", "      - steps:\n"))
    extract(sample)
    [result] = update(sample, ("es",))
    assert result.written
    catalog = load_catalog(sample, "es")
    changed = catalog.get("Rest when you are very tired.")
    assert changed.fuzzy and changed.string == "Descanse cuando esté cansado."
    assert changed.previous_id == ["Rest when you are tired."]
    assert catalog.get("Walking helps you heal.").string == "Caminar le ayuda a sanar."
    assert "Stand up slowly." in catalog.obsolete
    text = sample.po_path("es").read_text()
    assert '#| msgid "Rest when you are tired."' in text
    assert '#~ msgid "Stand up slowly."' in text


def test_update_twice_changes_nothing(sample: Project) -> None:
    update(sample, ("es",))
    once = sample.po_path("es").read_bytes()
    [again] = update(sample, ("es",))
    assert not again.written
    assert sample.po_path("es").read_bytes() == once


def test_broken_po_syntax_is_reported_at_its_line(sample: Project) -> None:
    path = sample.po_path("es")
    lines = path.read_text().splitlines()
    lines[21] = 'msgstr "unterminated'
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ProblemsError) as caught:
        load_catalog(sample, "es")
    found = [str(p) for p in caught.value.problems]
    assert "locales/es/LC_MESSAGES/handouts.po:22: msgfmt: syntax error" in found, found


def test_po_in_another_encoding_is_reported(sample: Project) -> None:
    path = sample.po_path("es")
    # The accented letters become Latin-1 bytes; the em dash, which Latin-1 lacks, becomes "?".
    path.write_bytes(path.read_text().encode("latin-1", errors="replace"))
    with pytest.raises(ProblemsError, match=r"handouts.po:\d+: expected UTF-8 text"):
        load_catalog(sample, "es")


def test_written_catalog_is_valid_gettext(sample: Project) -> None:
    update(sample, ("es",))
    with sample.po_path("es").open("rb") as handle:
        catalog = read_po(handle)
    assert catalog.locale_identifier == "es"
