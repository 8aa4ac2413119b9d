"""`handouts build --locale-group K/N`: a CI runner builds, and prepares, only its own group of locales."""

from __future__ import annotations

import subprocess

import pytest

from handoutkit.content.settings import Project
from handoutkit.outputs.build import locale_group

from .conftest import run_cli

PUBLISHED = ("en", "es", "zh_Hans", "zh_Hant", "vi", "ko", "tl", "ar", "ru", "ht", "pt", "ne", "fa")


@pytest.mark.parametrize("count", [1, 2, 3, 4, 13])
def test_the_groups_deal_every_locale_once_and_evenly(count: int) -> None:
    groups = [locale_group(PUBLISHED, (index, count)) for index in range(1, count + 1)]
    assert sorted(loc for group in groups for loc in group) == sorted(PUBLISHED)
    assert max(map(len, groups)) - min(map(len, groups)) <= 1
    assert groups[0][0] == "en" and (count == 1 or groups[1][0] == "es")  # dealt in clinic.yaml's order


def build(project: Project, *args: str) -> subprocess.CompletedProcess:
    return run_cli(project, "build", "-j", "1", "--edition", "standard", *args)


@pytest.mark.slow  # builds the es PDFs
def test_a_group_prepares_only_its_own_locales(sample: Project) -> None:
    """The sample publishes en, es and de (de is deliberately broken): group 2 of 3 is es alone,
    so it builds; group 3 of 3 is de alone, and only de's problems are reported."""
    done = build(sample, "--locale-group", "2/3")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (sample.build_dir / "pdf").iterdir() if p.is_dir()) == ["es"]
    assert not (sample.build_dir / "pdf" / "language-assistance.pdf").exists()  # a whole-library target
    failed = build(sample, "--locale-group", "3/3")
    assert failed.returncode == 1 and "de: skipped" in failed.stderr and "es" not in failed.stderr.split("de: skipped")[0]


@pytest.mark.parametrize("args, expected", [
    (("--locale-group", "0/3"), "--locale-group '0/3': expected K/N with 1 <= K <= N"),
    (("--locale-group", "4/3"), "--locale-group '4/3': expected K/N"),
    (("--locale-group", "1/2", "--locale", "es"), "--locale-group and --locale: give one or the other"),
    (("--locale-group", "4/4"), "--locale-group 4/4: this group has no locale"),
])
def test_a_wrong_group_is_a_clean_error(sample: Project, args: tuple[str, ...], expected: str) -> None:
    done = build(sample, *args)
    assert done.returncode == 1 and expected in done.stderr and "Traceback" not in done.stderr
    assert not (sample.build_dir / "pdf").exists()
