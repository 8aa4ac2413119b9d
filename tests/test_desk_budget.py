"""Front desk: the page budget holds with a details box in every handout and locale (issue 27).

A handout that fills its two pages (Tagalog and Russian procedure handouts need the tight layout)
used to refuse even a one-character instruction: the box had no room. The tight layout now sets
the box compactly (templates/print.css), and copyfitting's last resort (the pictures left out)
still applies; a refusal names the field that overflows, or says the box itself has no room.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import pytest
from pypdf import PdfReader

from handoutkit.desk.pool import DeskPool, PrintJob, Rendered, prepare_desk, render_print
from handoutkit.desk.server import NO_ROOM, FrontDesk

from .conftest import copy_repo

ONE_CHARACTER = {"name": "", "procedure_date": "", "arrival_time": "", "surgeon": "", "instructions": "x"}


@pytest.mark.slow  # every handout in every locale, through the desk's own render (about 2 minutes on 2 cores)
def test_a_one_character_instruction_prints_for_every_handout_and_locale(tmp_path: Path) -> None:
    project = copy_repo(tmp_path)
    setup = prepare_desk(project)
    assert not setup.unavailable, setup.unavailable
    pool = DeskPool(setup, workers=0)
    pool.start()
    budget = project.settings.limits.page_budget
    refused, printed = [], 0
    for locale in setup.ready:
        for handout in setup.content.handouts:
            result = render_print(PrintJob(handout.id, locale, ONE_CHARACTER), pool._inline)
            assert not result.error, (locale, handout.id, result.error)
            if result.over_budget:
                refused.append(f"{locale}/{handout.id} ({result.pages} pages)")
                continue
            pages = PdfReader(io.BytesIO(result.pdf)).pages
            assert len(pages) == result.pages <= budget, (locale, handout.id)
            printed += 1
    assert not refused, refused
    assert printed == len(setup.ready) * len(setup.content.handouts) == 13 * len(setup.content.handouts)


# ---------------------------------------------------------------- naming the field that overflows


@dataclass
class FitsWhen:
    """A stand-in for the render pool: a job fits when `fits(details)` says so."""

    fits: object
    tried: list

    def render(self, jobs: list[PrintJob], arrived: float | None = None) -> list[Rendered]:
        self.tried.append(dict(jobs[0].details))
        return [Rendered(None, pages=2 if self.fits(jobs[0].details) else 3,
                         over_budget=not self.fits(jobs[0].details))]


def overflowing(details: dict[str, str], fits) -> tuple[str | None, list]:
    desk = FrontDesk.__new__(FrontDesk)  # only its pool is used
    desk.pool = FitsWhen(fits, [])
    job = PrintJob("acdf", "tl", {**ONE_CHARACTER, "instructions": "", **details})
    return desk.overflowing_field(job, None), desk.pool.tried


def test_the_longest_field_whose_removal_fits_is_named() -> None:
    field, tried = overflowing({"name": "Ana", "instructions": "Bring " * 50},
                               lambda d: len(d["instructions"]) < 100)
    assert field == "instructions" and tried[0]["instructions"] == "" and tried[0]["name"] == "Ana"


def test_a_lone_field_is_cut_to_one_character_not_removed() -> None:
    """Removing the only detail would remove the box, which always fits: that proves nothing."""
    field, tried = overflowing({"instructions": "Bring " * 50}, lambda d: len(d["instructions"]) < 100)
    assert field == "instructions" and tried == [{**ONE_CHARACTER, "instructions": "B"}]


def test_no_room_for_even_one_character_is_said_so(caplog: pytest.LogCaptureFixture) -> None:
    field, tried = overflowing({"instructions": "Bring " * 50}, lambda d: False)
    assert field == NO_ROOM and len(tried) == 1
    field, tried = overflowing({"instructions": "x"}, lambda d: False)
    assert field == NO_ROOM and tried == []  # one character already: nothing shorter to try
    assert "no room for a details box: acdf in tl" in caplog.text


def test_no_single_field_is_none() -> None:
    field, _ = overflowing({"name": "Ana", "surgeon": "Dr. Rivera", "instructions": "Bring"}, lambda d: False)
    assert field is None


def test_the_no_room_refusal_blames_no_field() -> None:
    from handoutkit.desk.server import PrintRequest, too_long

    req = PrintRequest(("acdf",), None, "tl", "", None, None, "", "", "x")
    refusal = str(too_long(req, 3, 2, NO_ROOM))
    assert "no room for the patient's details" in refusal and "Shorten" not in refusal
    assert "Shorten the instructions (now 1 character)" in str(too_long(req, 3, 2, "instructions"))
