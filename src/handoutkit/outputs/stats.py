"""Translation dashboard: how complete each locale is, and how each handout reads and fits.

`handouts stats` prints it as a table or JSON; `make stats` also writes
build/stats.html, a self-contained page with an SVG bar chart.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, replace

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from handoutkit.content.handouts import load_content
from handoutkit.content.lint import lint
from handoutkit.content.settings import Project
from handoutkit.files import atomic_write
from handoutkit.outputs.build import locale_gate
from handoutkit.outputs.manifest import read_page_counts
from handoutkit.render.ready import open_library, with_locales
from handoutkit.translation.checks import CHECKS
from handoutkit.translation.fontplan import load_font_plan
from handoutkit.translation.locales import native_language_name
from handoutkit.translation.prepared import PreparedLocale, prepare_locale

WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class LocaleStats:
    locale: str
    language: str  # in its own script
    total: int
    translated: int
    fuzzy: int
    untranslated: int
    words: int  # English words still to translate or review
    percent: float
    review: str  # source, reviewed, draft, stale, pending (safety lines not back-translated), or broken
    reviewed_by: str | None
    errors: int  # errors besides the strings not translated yet (counted as fuzzy or untranslated)
    safety_unreviewed: int | None = 0  # safety-critical entries without a current back-translation; None: unreadable
    published: bool = True  # listed in clinic.yaml; an unpublished one is still being translated


@dataclass(frozen=True)
class HandoutStats:
    handout_id: str
    locale: str
    formula: str | None
    score: float | None
    ok: bool | None
    pages: int | None
    smog: float | None = None  # SMOG grade (English)


@dataclass(frozen=True)
class Stats:
    locales: list[LocaleStats]
    handouts: list[HandoutStats]

    def as_dict(self) -> dict:
        return asdict(self)


def words(text: str) -> int:
    return len(WORD.findall(text))


def locale_stats(project: Project, locale: str, prepared: PreparedLocale | None = None) -> LocaleStats:
    """One locale's row, from the same gate `handouts check` reports (figure by figure)."""
    if prepared is None:
        prepared = prepare_locale(project, locale, load_content(project.handouts_dir, project.root),
                                  load_font_plan(project))
    gated = locale_gate(project, prepared)
    percent = round(100.0 * gated.translated / gated.total, 1) if gated.total else 0.0
    return LocaleStats(locale, native_language_name(locale), gated.total, gated.translated, gated.fuzzy,
                       gated.untranslated, gated.words_left, percent, gated.status, prepared.reviewed_by,
                       len(gated.other_errors), gated.safety_open)


def collect(project: Project) -> Stats:
    """Every published locale, then every catalog under locales/ not yet published."""
    published = project.settings.locales
    unpublished = tuple(loc for loc in project.catalog_locales() if loc not in published)
    # With the font plan, as the build and `check` prepare them: one gate, one answer.
    prepared = with_locales(open_library(project), published + unpublished).prepared
    locales = [locale_stats(project, loc, prepared[loc]) for loc in published]
    locales += [replace(locale_stats(project, loc, prepared[loc]), published=False) for loc in unpublished]
    # Reading levels of the languages that can print (a broken one has none; its row says so).
    translations = {loc: prepared[loc].translations for loc in published if prepared[loc].ok}
    report = lint(project, translations, read_page_counts(project), checks=CHECKS)
    handouts = []
    for handout_id in sorted({h for h, _ in report.reading} | {h for h, _ in report.pages}):
        for loc in project.settings.locales:
            level = report.reading.get((handout_id, loc))
            handouts.append(HandoutStats(handout_id, loc, level.formula if level else None,
                                         round(level.score, 1) if level else None,
                                         level.ok if level else None, report.pages.get((handout_id, loc)),
                                         round(level.smog, 1) if level and level.smog is not None else None))
    return Stats(locales, handouts)


def display_width(text: str) -> int:
    """Columns a terminal gives the text: CJK characters take two, combining marks none."""
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
               for c in text)


def pad(text: str, width: int) -> str:
    return text + " " * max(1, width - display_width(text))


def format_table(stats: Stats) -> str:
    lines = [f"{'locale':<9}{pad('language', 18)}{'done':>7}{'transl.':>9}{'fuzzy':>7}{'untransl.':>11}"
             f"{'errors':>8}{'words left':>12}{'safety open':>13}  review"]
    for s in stats.locales:
        review = s.review + (f" by {s.reviewed_by}" if s.reviewed_by else "")
        review += "" if s.published else " (not published yet)"
        lines.append(f"{s.locale:<9}{pad(s.language, 18)}{s.percent:>6.1f}%{s.translated:>9}{s.fuzzy:>7}"
                     f"{s.untranslated:>11}{s.errors:>8}{s.words:>12}"
                     f"{'?' if s.safety_unreviewed is None else s.safety_unreviewed:>13}  {review}")
    lines += ["", f"{'handout':<34}{'locale':<9}{'reading level':<44}pages"]
    for h in stats.handouts:
        level = (f"{h.formula} {h.score}" + (f", SMOG {h.smog}" if h.smog is not None else "")) if h.formula else "n/a"
        lines.append(f"{h.handout_id:<34}{h.locale:<9}{level:<44}{h.pages if h.pages is not None else '-'}")
    return "\n".join(lines)


def write_dashboard(project: Project, stats: Stats) -> None:
    """build/stats.html: one self-contained page, no external assets."""
    env = Environment(loader=FileSystemLoader(project.templates_dir / "pages"), autoescape=True,
                      undefined=StrictUndefined)
    html = env.get_template("stats.html").render(stats=stats, clinic=project.settings.clinic)
    atomic_write(project.build_dir / "stats.html", html.encode("utf-8"))
