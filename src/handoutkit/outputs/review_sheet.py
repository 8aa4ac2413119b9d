"""The approving clinician's review sheet: `handouts review-sheet ID` -> build/review/<id>.pdf.

Every statement of the English handout, as it prints (clinic settings filled
in), with its citation or a prominent "NO SOURCE: please confirm", a box to
tick or a change to write, and lines to sign. Then the clinic's checklist for
the handout's kind: each item with the statements that cover it, its waiver,
or a prominent "MISSING" (checklists.py). Its fingerprint is the one
`handouts approve` records, so a signed sheet names the exact text approved.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from handoutkit.content.approval import approval_state, fingerprint, read_approval
from handoutkit.content.checklists import coverage, read_checklists
from handoutkit.content.handouts import Handout, load_content
from handoutkit.content.settings import Project
from handoutkit.content.sources import ReviewItem, read_sources, review_items
from handoutkit.errors import HandoutError
from handoutkit.files import atomic_write
from handoutkit.outputs.pages import page_environment
from handoutkit.render.fonts import activate_fontconfig
from handoutkit.render.renderer import PdfWriter, clinic_values, prose
from handoutkit.translation.fontplan import load_font_plan, require_font_files

TEMPLATE = "review-sheet.html"


@dataclass(frozen=True)
class ReviewSheet:
    path: Path
    statements: int
    unsourced: int  # statements flagged for the clinician to confirm
    pages: int


def review_sheet_html(project: Project, handout: Handout, items: list[ReviewItem], font_stack: tuple[str, ...]) -> str:
    settings = project.settings
    clinic = settings.clinic
    values = clinic_values(clinic)
    approval = read_approval(project, handout.id)
    state = approval_state(handout, clinic, approval, settings.review_interval_years)
    checklist = coverage(handout, read_checklists(project.handouts_dir, project.root),
                         approval.waivers if approval else {})
    return page_environment(project).get_template(TEMPLATE).render(
        checklist=checklist, numbers={(i.text.path, i.text.line, i.text.value): n for n, i in enumerate(items, 1)},
        handout=handout, items=items, printed=lambda text: prose(text.value, values), clinic=clinic,
        fingerprint=fingerprint(handout, clinic), state=state, font_stack=font_stack,
        sources=read_sources(project.handouts_dir, project.root), page_size=settings.page_size,
        interval=settings.review_interval_years)


def write_review_sheet(project: Project, handout_id: str, output: Path | None = None) -> ReviewSheet:
    content = load_content(project.handouts_dir, project.root)
    try:
        handout = content.get(handout_id)
    except KeyError:
        known = ", ".join(sorted(h.id for h in content.handouts))
        raise HandoutError(f"no handout with id '{handout_id}' (known: {known})") from None
    items = review_items(handout, read_sources(project.handouts_dir, project.root))
    plan = load_font_plan(project)
    require_font_files(plan)
    activate_fontconfig(project, plan, name="review-sheet")
    html = review_sheet_html(project, handout, items, plan.stack(project.settings.source_locale))
    pdf, pages = PdfWriter(project).pdf(html)
    path = output or project.build_dir / "review" / f"{handout.id}.pdf"
    atomic_write(path, pdf)
    return ReviewSheet(path, len(items), sum(1 for i in items if i.citation is None), pages)
