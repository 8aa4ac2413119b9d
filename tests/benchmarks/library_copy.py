"""A throw-away copy of the project, every locale prepared and one writer with their fonts: what the
copyfitting measurements (copyfit_margins.py, copyfit_bound.py) lay documents out with."""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from handoutkit.content.handouts import Content, load_content
from handoutkit.content.settings import Project
from handoutkit.outputs import build as b
from handoutkit.render.fonts import activate_fontconfig, subset_plan
from handoutkit.translation.fontplan import load_font_plan
from handoutkit.translation.prepared import PreparedLocale, prepare_locale

REPO = Path(__file__).resolve().parents[2]


@dataclass
class LibraryCopy:
    project: Project
    content: Content
    prepared: dict[str, PreparedLocale]
    stacks: dict[str, tuple[str, ...]]
    writer: Any  # a PdfWriter with every locale's fonts

    def renderer(self, locale: str) -> Any:
        prep = self.prepared[locale]
        return b._renderer(locale, prep.draft, self.stacks[locale], prep.mo)


def copy_project(root: Path) -> Path:
    """The content, templates and translations copied under `root` (the measurements write build/ there)."""
    for name in ("handouts", "templates", "locales"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "babel.cfg", root / "babel.cfg")
    return root


def open_copy(root: Path) -> LibraryCopy:
    """Every published locale of the copy at `root` prepared (a locale with problems stops the
    measurement: its documents would not be the library's), its fonts subset, one writer."""
    project = Project(root)
    content = load_content(project.handouts_dir, root)
    plan = load_font_plan(project)
    b._init_worker(str(root))
    prepared, stacks, files = {}, {}, []
    for locale in project.settings.locales:
        prepared[locale] = prep = prepare_locale(project, locale, content, plan)
        if prep.problems:
            sys.exit(f"{locale}: {len(prep.problems)} problem(s); see `handouts check --locale {locale}`")
        stack, subsets, tasks = subset_plan(project, plan, locale,
                                            partial(b.printable_chars, project, locale, prep.catalog, content))
        for task in tasks:
            task.run()
        files += subsets
        stacks[locale] = stack
    writer = b._writer(str(activate_fontconfig(project, plan, tuple(files)).resolve()))
    return LibraryCopy(project, content, prepared, stacks, writer)
