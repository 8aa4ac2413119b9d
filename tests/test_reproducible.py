"""Reproducible: the same sources give byte-identical PDFs whatever the clock, time zone or system locale.

Three `handouts build` runs, each in its own process and its own copy of the
sample: a baseline (UTC-11), the same again a little later (the clock moved),
and one on the other side of the date line (UTC+14, so "today" is another
date than the baseline's at every hour) under a different system locale and
language. The PDFs' document dates are the handout's review date, not today.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from handoutkit.build import html_path, pdf_path
from handoutkit.settings import Project

from .conftest import make_project

HANDOUTS = Path(sys.executable).with_name("handouts")
REVIEWED = "20261120"  # walking.yaml: revision.reviewed 2026-11-20
OUTPUTS = [("es", "standard"), ("es", "large")]

BASE_ENV = {key: value for key, value in os.environ.items()
            if key not in ("TZ", "LANG", "LANGUAGE", "SOURCE_DATE_EPOCH") and not key.startswith("LC_")}
ENVIRONMENTS = {
    "baseline": {"TZ": "Pacific/Pago_Pago", "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"},
    "later": {"TZ": "Pacific/Pago_Pago", "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"},
    "elsewhere": {"TZ": "Pacific/Kiritimati", "LANG": "POSIX", "LC_TIME": "C", "LANGUAGE": "de:es",
                  "LC_NUMERIC": "POSIX", "SOURCE_DATE_EPOCH": "1000000000"},  # 2001: the review date still wins
}


def build_in(project: Project, env: dict[str, str]) -> subprocess.CompletedProcess:
    environment = {**BASE_ENV, **env}
    return subprocess.run([str(HANDOUTS), "build", "--locale", "es", "--handout", "walking", "-j", "1"],
                          cwd=project.root, capture_output=True, check=False, text=True, env=environment,
                          timeout=300)


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Project]:
    projects = {}
    for name, env in ENVIRONMENTS.items():
        if name == "later":
            time.sleep(1.5)  # no faketime here: let the real clock move instead
        project = make_project(tmp_path_factory.mktemp(name))
        result = build_in(project, env)
        assert result.returncode == 0, f"{name}: {result.stderr}"
        projects[name] = project
    return projects


def differing(a: Project, b: Project) -> list[str]:
    problems = []
    for locale, edition in OUTPUTS:
        for path_of in (pdf_path, html_path):
            left, right = path_of(a, locale, "walking", edition), path_of(b, locale, "walking", edition)
            if left.read_bytes() != right.read_bytes():
                problems.append(str(left.relative_to(a.root)))
    return problems


def test_same_bytes_when_the_clock_has_moved(builds: dict[str, Project]) -> None:
    assert differing(builds["baseline"], builds["later"]) == []


def test_same_bytes_across_time_zones_and_system_locales(builds: dict[str, Project]) -> None:
    assert differing(builds["baseline"], builds["elsewhere"]) == []


@pytest.mark.parametrize("name", sorted(ENVIRONMENTS))
def test_document_dates_are_the_review_date(builds: dict[str, Project], name: str) -> None:
    from pypdf import PdfReader

    today = {(dt.datetime.now(dt.UTC) + dt.timedelta(hours=h)).strftime("%Y%m%d") for h in (-12, 0, 14)}
    for locale, edition in OUTPUTS:
        info = PdfReader(pdf_path(builds[name], locale, "walking", edition)).trailer["/Info"].get_object()
        for key in ("/CreationDate", "/ModDate"):
            assert key in info, f"{locale} {edition}: no {key}"
            value = str(info[key])
            assert value.startswith(f"D:{REVIEWED}"), f"{locale} {edition}: {key} is {value}, not the review date"
            assert not any(day in value for day in today - {REVIEWED}), f"{key} {value} is today"


def test_a_rebuild_in_place_is_byte_identical(builds: dict[str, Project], tmp_path: Path) -> None:
    """--force renders again in the same folder, in yet another time zone: nothing changes."""
    project = Project(tmp_path / "again")
    shutil.copytree(builds["baseline"].root, project.root)
    before = {(loc, ed): pdf_path(project, loc, "walking", ed).read_bytes() for loc, ed in OUTPUTS}
    env = {**BASE_ENV, "TZ": "Asia/Kathmandu", "LC_ALL": "C.UTF-8"}
    result = subprocess.run([str(HANDOUTS), "build", "--locale", "es", "--handout", "walking", "-j", "1", "--force"],
                            cwd=project.root, capture_output=True, check=False, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "2 rendered" in result.stdout, result.stdout
    for locale, edition in OUTPUTS:
        assert pdf_path(project, locale, "walking", edition).read_bytes() == before[(locale, edition)], \
            (locale, edition)
