"""The low errors an independent back-translation found (issue 22) stay fixed in the repository's catalogs."""

from __future__ import annotations

from handoutkit.content.settings import Project
from handoutkit.translation.catalogs import load_catalog

SURGEON = {"zh_Hans": "外科医生", "zh_Hant": "外科醫師", "ko": "외과 의사"}


def entries(project: Project, locale: str) -> dict[str, str]:
    return {str(m.id): str(m.string) for m in load_catalog(project, locale) if m.id and not m.context}


def test_surgeon_is_not_rendered_as_doctor(repo: Project) -> None:
    for locale, word in SURGEON.items():
        wrong = [english for english, text in entries(repo, locale).items()
                 if "surgeon" in english.lower() and english != "Surgeon" and word not in text]
        assert wrong == [], (locale, wrong)


def test_haitian_draft_mark_reads_as_preliminary_not_soup(repo: Project) -> None:
    ht = entries(repo, "ht")
    assert ht["DRAFT — not yet approved by a clinician"].startswith("VÈSYON PRELIMINÈ")
    assert not [text for text in ht.values() if "bouyon" in text.lower()]
    assert "grav" in ht["A severe headache"]


def test_soreness_is_not_pain_and_fluid_is_not_water(repo: Project) -> None:
    soreness = "Soreness and stiffness are normal in the first few days."
    assert "dor" not in entries(repo, "pt")[soreness].split()
    assert not entries(repo, "fa")[soreness].startswith("درد")
    assert "दुखाइ" not in entries(repo, "ne")[soreness]
    ne = entries(repo, "ne")
    assert not [english for english, text in ne.items() if "fluid" in english and "पानी" in text]
