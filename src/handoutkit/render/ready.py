"""The ready library: what every renderer of the project is set up from, made once.

The content and its approval records, the font plan (its files as pinned), the
prepared locales, each printable locale's font stack with its CJK subsets made,
and the fontconfig file that shows WeasyPrint those fonts. The build and the
front-desk server set it up through the three steps below (`check` and `stats`
through the first two), instead of each copying the loop; it lives in the
render layer, the lowest one that knows the font subsets and fontconfig.

    library = open_library(project)                 # content, approvals, font plan
    library = with_locales(library, ("es", "ar"))   # each locale prepared as the build prepares it
    library = with_fonts(library, progress)         # font stacks, CJK subsets, fontconfig
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Callable, Mapping

from babel.messages.catalog import Catalog

from handoutkit.content.approval import Approval, read_approvals
from handoutkit.content.handouts import Content, handout_texts, load_content
from handoutkit.content.settings import Project
from handoutkit.errors import HandoutError
from handoutkit.render.fonts import SubsetTask, activate_fontconfig, subset_plan
from handoutkit.translation.fontplan import FontPlan, load_font_plan, require_font_files
from handoutkit.translation.locales import format_long_date, native_language_name
from handoutkit.translation.prepared import PreparedLocale, prepare_locale

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ReadyLibrary:
    project: Project
    content: Content
    approvals: dict[str, Approval]
    plan: FontPlan
    prepared: dict[str, PreparedLocale] = field(default_factory=dict)  # every locale asked for, in order
    unreadable: dict[str, HandoutError] = field(default_factory=dict)  # set aside by `keep_going`
    stacks: dict[str, tuple[str, ...]] = field(default_factory=dict)  # printable locale -> its font stack
    subset_files: tuple[Path, ...] = ()  # the CJK subsets fontconfig is shown
    fontconfig: str = ""  # the fontconfig file (absolute), once `with_fonts` has run

    @property
    def ready(self) -> dict[str, PreparedLocale]:
        """The locales that passed every check, in the order asked for."""
        return {locale: prepared for locale, prepared in self.prepared.items() if not prepared.problems}


def open_library(project: Project) -> ReadyLibrary:
    """The content, its approval records and the font plan, with its font files as pinned: what
    stops everything before any locale is looked at."""
    content = load_content(project.handouts_dir, project.root)
    approvals = read_approvals(project, content)  # a damaged approval record stops everything
    plan = load_font_plan(project)
    require_font_files(plan)  # installed, and each file's content as pinned in fonts.yaml
    return ReadyLibrary(project, content, approvals, plan)


def with_locales(library: ReadyLibrary, locales: tuple[str, ...], passed: Mapping[str, str] | None = None,
                 keep_going: bool = False) -> ReadyLibrary:
    """Each locale prepared with the font plan, as the build prepares it (one gate, one answer).

    `passed` maps a locale to the input hash of the last time it passed (its checks are then not
    run again). With `keep_going`, a locale whose records cannot be read at all (a damaged review
    record) is set aside in `unreadable` and the others go on, as the server needs; otherwise
    that error stops everything, as the build and `check` need.
    """
    prepared, unreadable = {}, {}
    for locale in locales:
        try:
            prepared[locale] = prepare_locale(library.project, locale, library.content, library.plan,
                                              (passed or {}).get(locale))
        except HandoutError as exc:
            if not keep_going:
                raise
            unreadable[locale] = exc
    return replace(library, prepared=prepared, unreadable=unreadable)


def printable_chars(project: Project, locale: str, catalog: Catalog | None, content: Content) -> frozenset[str]:
    """Every character a locale's PDFs can print: its translations, dates, names, ASCII."""
    texts = [str(m.string) for m in catalog if m.id] if catalog is not None else \
        [t.value for h in content.handouts for t in handout_texts(h)]
    clinic = project.settings.clinic
    texts += [clinic.name, clinic.phone, clinic.emergency_number, clinic.fever_threshold, clinic.lifting_limit,
              native_language_name(locale), "·–—•…"]
    texts += [format_long_date(dt.date(2000, month, 28), locale) for month in range(1, 13)]
    texts.append("".join(chr(c) for c in range(0x20, 0x7F)))
    return frozenset("".join(texts))


def make_subsets(tasks: list[SubsetTask], progress: Progress) -> None:
    """Cut the CJK faces down to what their locales print (once; cached under build/fonts/)."""
    if tasks:
        progress(f"subsetting {len(tasks)} CJK font face(s) to the characters their locales print")
    for task in tasks:
        task.run()


def with_fonts(library: ReadyLibrary, progress: Progress = lambda line: None,
               full_faces: bool = False) -> ReadyLibrary:
    """Each printable locale's font stack, its CJK subsets made, and fontconfig shown them all
    (render.fonts.use_fontconfig, the one place FONTCONFIG_FILE is set).

    With `full_faces` the full faces stay behind the subsets: a patient's name may use a character
    that no handout prints (a rare Han character), and it must print, if at a larger size.
    """
    stacks: dict[str, tuple[str, ...]] = {}
    files: list[Path] = []
    tasks: list[SubsetTask] = []
    for locale, prepared in library.ready.items():
        stack, locale_files, locale_tasks = subset_plan(library.project, library.plan, locale, partial(
            printable_chars, library.project, locale, prepared.catalog, library.content))
        stacks[locale] = stack + (tuple(name for name in library.plan.stack(locale) if name not in stack)
                                  if full_faces else ())
        files += locale_files
        tasks += locale_tasks
    make_subsets(tasks, progress)
    fontconfig = str(activate_fontconfig(library.project, library.plan, tuple(files)).resolve())
    return replace(library, stacks=stacks, subset_files=tuple(files), fontconfig=fontconfig)
