"""Reproducible: the same sources give byte-identical PDFs whatever the clock, time zone or system locale.

Three `handouts build` runs, each in its own process and its own copy of the
sample: a baseline (UTC-11), the same again a little later (the clock moved),
and one on the other side of the date line (UTC+14, so "today" is another
date than the baseline's at every hour) under a different system locale and
language. The PDFs carry no document date at all: not today, and not a
review date that no recorded approval backs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from handoutkit.content.settings import Project
from handoutkit.outputs.build import html_path, pdf_path

from .conftest import make_project

pytestmark = pytest.mark.slow  # several full builds compared byte for byte

HANDOUTS = Path(sys.executable).with_name("handouts")
OUTPUTS = [("es", "standard"), ("es", "large")]

BASE_ENV = {key: value for key, value in os.environ.items()
            if key not in ("TZ", "LANG", "LANGUAGE", "SOURCE_DATE_EPOCH") and not key.startswith("LC_")}
ENVIRONMENTS = {
    "baseline": {"TZ": "Pacific/Pago_Pago", "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"},
    "later": {"TZ": "Pacific/Pago_Pago", "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"},
    "elsewhere": {"TZ": "Pacific/Kiritimati", "LANG": "POSIX", "LC_TIME": "C", "LANGUAGE": "de:es",
                  "LC_NUMERIC": "POSIX", "SOURCE_DATE_EPOCH": "1000000000"},  # 2001: still no date
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
def test_unapproved_pdfs_have_no_document_date(builds: dict[str, Project], name: str) -> None:
    from pypdf import PdfReader

    for locale, edition in OUTPUTS:
        reader = PdfReader(pdf_path(builds[name], locale, "walking", edition))
        info = reader.trailer["/Info"].get_object()
        for key in ("/CreationDate", "/ModDate"):
            assert key not in info, f"{locale} {edition}: {key} is {info.get(key)}: a date reads as a review date"
        xmp = reader.trailer["/Root"].get_object().get("/Metadata")
        if xmp is not None:
            assert b"CreateDate" not in xmp.get_object().get_data(), "a date in the XMP metadata"


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


CJK = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


def test_a_cjk_subset_is_the_same_bytes_a_second_later(tmp_path: Path) -> None:
    """The subsets every Chinese and Korean PDF embeds carry no save time."""
    from handoutkit.render.fonts import subset_face

    chars = frozenset("术后尽早下地走路。")
    first, second = tmp_path / "first.otf", tmp_path / "second.otf"
    subset_face(CJK, "Noto Sans CJK SC", "Noto Sans CJK SC handoutkit test", chars, first)
    time.sleep(1.1)  # the `head` table's clock counts whole seconds
    subset_face(CJK, "Noto Sans CJK SC", "Noto Sans CJK SC handoutkit test", chars, second)
    assert first.read_bytes() == second.read_bytes()
