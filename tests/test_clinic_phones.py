"""Clinic settings: the clinic's phone numbers in clinic.yaml are read as phone numbers at load.

A patient dials what is printed: a letter O for a zero, a number cut short or a stray word is
refused with the file, the line, the key and what was expected, before anything prints it.
"""

from __future__ import annotations

import pytest

from handoutkit.content.settings import Project, load_settings, phone_problem
from handoutkit.errors import ProblemsError

from .conftest import run_cli

ACCEPTED = ["(555) 010-0142", "+1 555 010 0142", "030/1234567", "555-0100 ext. 12", "555\u20130100",
            "+44 (0)20 7946 0958", "555.010.0142", "555-0100 x12", "555-0100 Ext 12", "555 - 0100"]
REFUSED = ["555-O142", "call us", "(555 010-0142", "555 010 0142 ext.", "1234567890123456", "555--0100",
           "(555)(010) 0142", "+1 +555 0100", "0142", "555-0100 ext. 1234567", "555-0100;"]


@pytest.mark.parametrize("phone", ACCEPTED)
def test_real_world_formats_are_accepted(phone: str) -> None:
    assert phone_problem(phone) is None


@pytest.mark.parametrize("phone", REFUSED)
def test_malformed_numbers_are_refused(phone: str) -> None:
    problem = phone_problem(phone)
    assert problem is not None and repr(phone) in problem


def write_clinic(project: Project, phone: str, desk_phone: str) -> None:
    clinic = project.handouts_dir / "clinic.yaml"
    text = clinic.read_text("utf-8")
    assert '"(555) 010-0199"' in text and '"(555) 010-0188"' in text
    clinic.write_text(text.replace('"(555) 010-0199"', f'"{phone}"').replace('"(555) 010-0188"', f'"{desk_phone}"'),
                      "utf-8")


def line_of(project: Project, fragment: str) -> int:
    lines = (project.handouts_dir / "clinic.yaml").read_text("utf-8").splitlines()
    return next(number for number, line in enumerate(lines, 1) if fragment in line)


def test_the_sample_clinic_accepts_every_listed_format(sample: Project) -> None:
    write_clinic(sample, "555-0100 ext. 12", "030/1234567")
    clinic = load_settings(sample.handouts_dir / "clinic.yaml", sample.root).clinic
    assert clinic.phone == "555-0100 ext. 12"
    assert [p.phone for p in clinic.desk_phones] == ["(555) 010-0177", "030/1234567"]


def test_malformed_phones_name_the_file_line_and_key(sample: Project) -> None:
    write_clinic(sample, "555-O199", "(555) 010-01888888888888")
    with pytest.raises(ProblemsError) as caught:
        load_settings(sample.handouts_dir / "clinic.yaml", sample.root)
    found = [str(p) for p in caught.value.problems]
    main, desk = line_of(sample, "555-O199"), line_of(sample, "01888888888888")
    assert any(f.startswith(f"handouts/clinic.yaml:{main}: clinic.phone: expected a phone number")
               and "'555-O199'" in f for f in found), found
    assert any(f.startswith(f"handouts/clinic.yaml:{desk}: desk_phones: the phone: expected a phone number of 5 "
                            "to 15 digits") for f in found), found
    assert len(found) == 2


def test_a_malformed_phone_stops_the_command_without_a_traceback(sample: Project) -> None:
    write_clinic(sample, "call the front desk", "(555) 010-0188")
    result = run_cli(sample, "lint")
    assert result.returncode == 1
    assert "handouts/clinic.yaml:3: clinic.phone: expected a phone number" in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
