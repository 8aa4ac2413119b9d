"""One repository handout laid out by WeasyPrint, for tests that compare two ways of writing it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .conftest import copy_repo


def repository_handout(tmp_path: Path, locale: str, handout_id: str) -> tuple[Any, Any, Any]:
    """A copy of the repository with its pinned fonts active: (project, a renderer of `locale`, the handout)."""
    from handoutkit.content.handouts import load_content
    from handoutkit.render.fonts import activate_fontconfig
    from handoutkit.render.renderer import make_renderer
    from handoutkit.translation.catalogs import load_translations
    from handoutkit.translation.fontplan import load_font_plan

    project = copy_repo(tmp_path)
    plan = load_font_plan(project)
    activate_fontconfig(project, plan)
    renderer = make_renderer(project, locale, load_translations(project, locale), plan.stack(locale), False)
    return project, renderer, load_content(project.handouts_dir, project.root).get(handout_id)


def lay_out_repository_handout(tmp_path: Path, locale: str, handout_id: str, large: bool) -> Any:
    """The WeasyPrint document of a handout of a copy of the repository, with the pinned fonts."""
    from handoutkit.render.renderer import PdfWriter

    project, renderer, handout = repository_handout(tmp_path, locale, handout_id)
    return PdfWriter(project).layout(renderer.html(handout, large=large))
