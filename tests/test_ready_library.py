"""The ready library: content, approvals, font plan, prepared locales, font stacks and fontconfig, set up once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from handoutkit.content.settings import Project
from handoutkit.errors import HandoutError
from handoutkit.render.ready import open_library, with_fonts, with_locales


def test_only_the_locales_that_pass_get_fonts_and_fontconfig_is_shown_them(
        sample: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FONTCONFIG_FILE", os.environ.get("FONTCONFIG_FILE", ""))  # restored afterwards
    setup = with_locales(open_library(sample), ("es", "de"))
    assert list(setup.prepared) == ["es", "de"] and list(setup.ready) == ["es"], "de is broken on purpose"
    assert not setup.stacks and not setup.fontconfig, "no fonts before with_fonts"
    setup = with_fonts(setup)
    assert set(setup.stacks) == {"es"}
    assert Path(setup.fontconfig).is_absolute() and Path(setup.fontconfig).is_file()
    assert os.environ["FONTCONFIG_FILE"] == setup.fontconfig


def test_an_unreadable_review_record_stops_the_build_and_is_set_aside_for_the_server(sample: Project) -> None:
    (sample.locales_dir / "es" / "review.yaml").write_text("reviewed_by: [unclosed\n", "utf-8")
    with pytest.raises(HandoutError):
        with_locales(open_library(sample), ("es",))
    setup = with_locales(open_library(sample), ("es",), keep_going=True)
    assert list(setup.unreadable) == ["es"] and not setup.prepared
