"""The orchestrator: content, catalogs, checks, fonts, render, PDF, in that order.

Everything is read and checked before anything is written. A locale whose
catalog is broken or incomplete, or whose text a pinned font cannot draw, is
skipped with its problems listed; the other locales still build, and the
result says the build failed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import sys
import zlib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Callable

from babel.messages.catalog import Catalog
from babel.support import Translations

from .catalogs import (
    compile_translations,
    load_catalog,
    load_translations,
    read_template,
)
from .checks import check_locale
from .content import Content, Handout, handout_texts, load_content
from .errors import HandoutError, Problem, ProblemsError
from .files import atomic_write
from .fonts import (
    FontPlan,
    SubsetTask,
    activate_fontconfig,
    coverage_problems,
    load_font_plan,
    require_font_files,
    subset_plan,
)
from .frontdesk import write_catalog
from .lint import check_page_budget
from .packets import build_packets
from .manifest import (
    MANIFEST_FILE,
    Entry,
    check_inputs,
    check_key,
    common_inputs,
    handout_inputs,
    read_manifest,
    strings_by_source,
    write_manifest,
)
from .manifest import key as manifest_key
from .render import (
    NOTICE_TEMPLATE,
    PdfWriter,
    format_long_date,
    language_assistance_html,
    make_renderer,
    native_language_name,
    notice_line,
)
from .approval import approval_state, read_approvals
from .review import review_state
from .settings import Project

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Job:
    """One PDF to make: everything a worker process needs, all picklable."""

    locale: str
    handout_id: str
    draft: bool
    font_stack: tuple[str, ...]
    edition: str = "standard"  # or "large": the large-print edition
    fontconfig: str = ""  # the fontconfig file that shows the pinned fonts and subsets


@dataclass(frozen=True)
class Output:
    locale: str
    handout_id: str
    pdf: Path
    html: Path
    pages: int
    edition: str = "standard"


@dataclass
class BuildResult:
    outputs: list[Output] = field(default_factory=list)  # rendered by this build
    unchanged: list[Output] = field(default_factory=list)  # up to date, not rendered again
    problems: list[Problem] = field(default_factory=list)
    skipped_locales: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


# Output folders under build/ per edition.
EDITIONS = {"standard": ("pdf", "html"), "large": ("pdf-large", "html-large")}


def pdf_path(project: Project, locale: str, handout_id: str, edition: str = "standard") -> Path:
    return project.build_dir / EDITIONS[edition][0] / locale / f"{handout_id}.pdf"


def html_path(project: Project, locale: str, handout_id: str, edition: str = "standard") -> Path:
    return project.build_dir / EDITIONS[edition][1] / locale / f"{handout_id}.html"


def select(content: Content, published: tuple[str, ...], locales: tuple[str, ...] | None,
           handout_ids: tuple[str, ...] | None) -> tuple[tuple[str, ...], tuple[Handout, ...]]:
    unknown_locales = [loc for loc in locales or () if loc not in published]
    known_ids = {h.id for h in content.handouts}
    unknown_ids = [h for h in handout_ids or () if h not in known_ids]
    if unknown_locales or unknown_ids:
        raise HandoutError("; ".join(
            [f"locale '{loc}' is not published (handouts/clinic.yaml lists: {', '.join(published)})"
             for loc in unknown_locales]
            + [f"no handout with id '{h}' (known: {', '.join(sorted(known_ids))})" for h in unknown_ids]))
    chosen = tuple(h for h in content.handouts if not handout_ids or h.id in handout_ids)
    return tuple(locales or published), chosen


def locale_texts(project: Project, locale: str, catalog, content: Content) -> list[tuple[str, int, str]]:
    """(file, line, text) of everything a locale prints, for the font coverage check."""
    if catalog is None:
        return [(h.path, t.line, t.value) for h in content.handouts for t in handout_texts(h)]
    label = project.rel(project.po_path(locale))
    return [(label, m.lineno, str(m.string)) for m in catalog if m.id and m.string and not m.fuzzy]


@dataclass(frozen=True)
class PreparedLocale:
    catalog: Catalog | None  # None for the source language
    status: str  # review state: source, reviewed, draft, stale or pending (safety lines not back-translated)
    problems: list[Problem]  # anything here blocks the locale
    inputs: str  # hash of everything the checks read

    @property
    def draft(self) -> bool:
        """The PDFs carry the draft-translation notice."""
        return self.status in ("draft", "stale", "pending")

    @property
    def translations(self) -> Translations:
        return compile_translations(self.catalog) if self.catalog is not None else Translations()


def prepare_locale(project: Project, locale: str, content: Content, plan: FontPlan,
                   passed: str | None = None) -> PreparedLocale:
    """Check one locale before rendering: complete, well-formed, and drawable by its fonts.

    `passed` is the input hash of the last time this locale passed every check:
    when its inputs are the same, the checks are not run again.
    """
    catalog = None
    if locale != project.settings.source_locale:
        try:
            catalog = load_catalog(project, locale, strict=False)
        except ProblemsError as exc:
            return PreparedLocale(None, "", exc.problems, "")
        except HandoutError as exc:
            return PreparedLocale(None, "", [Problem(project.rel(project.po_path(locale)), 1,
                                                        str(exc).split(": ", 1)[-1])], "")
    inputs = check_inputs(project, locale)
    if inputs != passed:
        if catalog is not None:
            report = check_locale(project, locale, catalog)
            if report.errors:
                return PreparedLocale(None, "", report.errors, inputs)
        problems = coverage_problems(plan, locale, locale_texts(project, locale, catalog, content))
        if problems:
            return PreparedLocale(None, "", problems, inputs)
    return PreparedLocale(catalog, review_state(project, locale, catalog).status, [], inputs)


# ---------------------------------------------------------------- rendering (worker side)

_worker: dict = {}


def _init_worker(root: str) -> None:
    """Per process: one project, one content load, one FontConfiguration, one renderer per locale.

    Workers may start before the fonts are settled (a clean build warms them up
    while the locales are checked), so each job names its fontconfig file.
    """
    import weasyprint  # noqa: F401  (the slow import, done while the main process checks)

    project = Project(Path(root))
    _worker.clear()
    content = load_content(project.handouts_dir, project.root)
    _worker.update(project=project, content=content, approvals=read_approvals(project, content),
                   plan=load_font_plan(project), writer=None, fontconfig=None, renderers={})


def _ready() -> bool:
    return True


def _renderer(locale: str, draft: bool, font_stack: tuple[str, ...]):
    key = (locale, draft, font_stack)
    if key not in _worker["renderers"]:
        project: Project = _worker["project"]
        translations = load_translations(project, locale)
        _worker["renderers"][key] = make_renderer(project, locale, translations, font_stack, draft,
                                                  _worker["approvals"])
    return _worker["renderers"][key]


def render_job(job: Job) -> Output:
    """Render one handout in one locale and write its HTML and PDF atomically."""
    project: Project = _worker["project"]
    if _worker["writer"] is None or _worker["fontconfig"] != job.fontconfig:
        os.environ["FONTCONFIG_FILE"] = job.fontconfig
        _worker["writer"] = PdfWriter(project)
        _worker["fontconfig"] = job.fontconfig
    handout = _worker["content"].get(job.handout_id)
    renderer = _renderer(job.locale, job.draft, job.font_stack)
    large = job.edition == "large"
    writer: PdfWriter = _worker["writer"]
    html, document = copyfit(renderer, writer, handout, large, project.settings.limits.page_budget)
    pdf, pages = writer.write(document), len(document.pages)
    html_file = html_path(project, job.locale, job.handout_id, job.edition)
    pdf_file = pdf_path(project, job.locale, job.handout_id, job.edition)
    atomic_write(html_file, html.encode("utf-8"), durable=False)
    atomic_write(pdf_file, pdf, durable=False)
    return Output(job.locale, job.handout_id, pdf_file, html_file, pages, job.edition)


# A large-print last page filled less than this is laid out again with tighter spacing.
LARGE_COPYFIT_FILL = 0.35


def copyfit(renderer, writer: PdfWriter, handout: Handout, large: bool, page_budget: int,
            extra: dict | None = None, start_tight: bool = False) -> tuple[str, object]:
    """The handout's HTML and laid-out document, copyfitted; shared by the build and the front desk.

    Tighter spacing, same type size, before calling it an overflow; in large print,
    before printing a last page that holds little more than the closing box.
    `start_tight` skips the first layout when it is known to overflow (the front desk
    knows once the same handout without the patient's details needed the tight one).
    """
    if start_tight and not large:
        html = renderer.html(handout, extra=extra, tight=True)
        return html, writer.layout(html)
    html = renderer.html(handout, extra=extra, large=large)
    document = writer.layout(html)
    over_budget = not large and len(document.pages) > page_budget
    short_last_page = large and len(document.pages) > 1 and writer.last_page_fill(document) < LARGE_COPYFIT_FILL
    if over_budget or short_last_page:
        tight_html = renderer.html(handout, extra=extra, tight=True, large=large)
        tight = writer.layout(tight_html)
        if len(tight.pages) < len(document.pages):
            html, document = tight_html, tight
    return html, document


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def run_jobs(project: Project, jobs: list[Job], pool: ProcessPoolExecutor | None,
             progress: Progress) -> tuple[list[Output], list[Problem]]:
    """Render the jobs, in the pool when there is one, reporting progress as each finishes in order."""
    outputs: list[Output] = []
    problems: list[Problem] = []
    total = len(jobs)
    if not jobs:
        return outputs, problems
    # The longest documents first (large print, CJK, then the rest), so no core idles at the end.
    order = sorted(jobs, key=lambda j: (j.edition != "large", "handoutkit" not in " ".join(j.font_stack)))

    def record(index: int, job: Job, result: Output | Exception) -> None:
        name = f"{job.locale}/{job.handout_id}"
        if isinstance(result, Exception):
            problems.append(Problem(f"build/pdf/{name}.pdf", 0, f"render failed: {result}"))
            progress(f"[{index}/{total}] {name}: FAILED: {result}")
        else:
            outputs.append(result)
            progress(f"[{index}/{total}] {project.rel(result.pdf)} ({result.pages} page{'s' if result.pages != 1 else ''})")

    if pool is None:
        _init_worker(str(project.root))
        for index, job in enumerate(order, 1):
            try:
                record(index, job, render_job(job))
            except HandoutError as exc:
                record(index, job, exc)
        return outputs, problems
    futures = [(job, pool.submit(render_job, job)) for job in order]
    for index, (job, future) in enumerate(futures, 1):
        try:
            record(index, job, future.result())
        except HandoutError as exc:
            record(index, job, exc)
    return outputs, problems


def in_shard(locale: str, handout_id: str, shard: tuple[int, int]) -> bool:
    """Deterministic split of the outputs into N parts, the same on every machine (CRC-32, not hash())."""
    index, count = shard
    return zlib.crc32(f"{locale}/{handout_id}".encode()) % count == index - 1


def parse_shard(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)/(\d+)", text.strip())
    if not match or not 1 <= int(match[1]) <= int(match[2]):
        raise HandoutError(f"--shard {text!r}: expected K/N with 1 <= K <= N, such as 2/4")
    return int(match[1]), int(match[2])


# ---------------------------------------------------------------- fonts


def printable_chars(project: Project, locale: str, catalog: Catalog | None, content: Content) -> frozenset[str]:
    """Every character a locale's PDFs can print: its translations, dates, names, ASCII."""
    texts = [str(m.string) for m in catalog if m.id] if catalog is not None else \
        [t.value for h in content.handouts for t in handout_texts(h)]
    clinic = project.settings.clinic
    texts += [clinic.name, clinic.phone, clinic.emergency_number, native_language_name(locale), "·–—•…"]
    texts += [format_long_date(dt.date(2000, month, 28), locale) for month in range(1, 13)]
    texts.append("".join(chr(c) for c in range(0x20, 0x7F)))
    return frozenset("".join(texts))


def make_subsets(tasks: list[SubsetTask], progress: Progress) -> None:
    """Cut the CJK faces down to what their locales print (once; cached under build/fonts/)."""
    if tasks:
        progress(f"subsetting {len(tasks)} CJK font face(s) to the characters their locales print")
    for task in tasks:
        task.run()


# ---------------------------------------------------------------- extra outputs

LANGUAGE_ASSISTANCE_PDF = "build/pdf/language-assistance.pdf"


def build_language_assistance(project: Project, content: Content, ready: dict[str, PreparedLocale],
                              stacks: dict[str, tuple[str, ...]], common: str, manifest: dict[str, Entry],
                              progress: Progress) -> None:
    """build/pdf/language-assistance.pdf: the no-cost interpreter notice in every ready locale."""
    # Its inputs: the translations of the strings the notice template prints, and the fonts.
    def notice_strings(prepared: PreparedLocale) -> list[str]:
        return [str(m.string) for m in prepared.catalog or ()
                if any(f == f"templates/{NOTICE_TEMPLATE}" for f, _ in m.locations)]

    inputs = hashlib.sha256("\0".join([common, *(f"{loc}:{notice_strings(prepared)}:{stacks[loc]}"
                                                          for loc, prepared in ready.items())]).encode()).hexdigest()
    path = project.root / LANGUAGE_ASSISTANCE_PDF
    entry = manifest.get("language-assistance")
    if entry and entry.inputs == inputs and path.exists():
        return
    lines = [notice_line(project, loc, prepared.translations, stacks[loc]) for loc, prepared in ready.items()]
    html = language_assistance_html(project, lines)
    pdf, pages = PdfWriter(project).pdf(html)
    atomic_write(path, pdf)
    manifest["language-assistance"] = Entry(inputs, pages)
    progress(f"{LANGUAGE_ASSISTANCE_PDF} ({len(lines)} languages, {pages} page{'s' if pages != 1 else ''})")


# ---------------------------------------------------------------- the pipeline


def approval_summary(project: Project, content: Content) -> list[str]:
    """Each handout's approval state today: the catalog's badges change with it (and when one expires)."""
    settings = project.settings
    approvals = read_approvals(project, content)
    return [f"{h.id}:{approval_state(h, settings.clinic, approvals.get(h.id), settings.review_interval_years)}"
            for h in content.handouts]


def build(project: Project, locales: tuple[str, ...] | None = None,
          handout_ids: tuple[str, ...] | None = None, workers: int | None = None,
          force: bool = False, editions: tuple[str, ...] = tuple(EDITIONS),
          shard: tuple[int, int] = (1, 1), progress: Progress = lambda line: print(line, file=sys.stderr)) -> BuildResult:
    """Build build/pdf/<locale>/<id>.pdf (and build/html/...) for the chosen handouts and locales."""
    settings = project.settings
    content = load_content(project.handouts_dir, project.root)
    read_approvals(project, content)  # a damaged approval record stops the build before any work
    plan = load_font_plan(project)
    require_font_files(plan)
    read_template(project)  # a missing POT is reported before any work
    chosen_locales, chosen_handouts = select(content, settings.locales, locales, handout_ids)

    result = BuildResult()
    manifest = {} if force else read_manifest(project)
    # A build with no record of earlier outputs will render: its workers start now, so
    # their start-up (importing WeasyPrint) overlaps the checks below.
    with WorkerPool(project, workers or default_jobs(), start_now=not manifest) as pool:
        return _build(project, result, manifest, pool, content, plan, chosen_locales, chosen_handouts,
                      whole_library=locales is None and handout_ids is None, editions=editions,
                      shard=shard, progress=progress)


class WorkerPool:
    """The render processes: started early for a clean build, on first use otherwise, never for a no-op."""

    def __init__(self, project: Project, workers: int, start_now: bool):
        self.project, self.workers = project, workers
        self.pool: ProcessPoolExecutor | None = None
        if start_now and workers > 1:
            self.start()

    def start(self) -> ProcessPoolExecutor:
        if self.pool is None:
            self.pool = ProcessPoolExecutor(max_workers=self.workers, initializer=_init_worker,
                                            initargs=(str(self.project.root),))
            for _ in range(self.workers):
                self.pool.submit(_ready)  # starts every worker process now
        return self.pool

    def for_jobs(self, count: int) -> ProcessPoolExecutor | None:
        """The pool, or None when the jobs are better rendered in this process."""
        return self.start() if self.workers > 1 and count > 1 else self.pool

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown()


def _build(project: Project, result: BuildResult, manifest: dict[str, Entry], pool: WorkerPool,
           content: Content, plan: FontPlan, chosen_locales: tuple[str, ...],
           chosen_handouts: tuple[Handout, ...], whole_library: bool, editions: tuple[str, ...],
           shard: tuple[int, int], progress: Progress) -> BuildResult:
    """The pipeline proper: check each locale, plan the jobs, render, record."""
    settings = project.settings
    common = common_inputs(project, plan)
    wanted: dict[str, str] = {}  # manifest key -> input hash, for every PDF this build covers
    jobs: list[Job] = []
    subset_files: list[Path] = []
    stacks: dict[str, tuple[str, ...]] = {}  # locale -> the fonts it renders with
    ready: dict[str, PreparedLocale] = {}  # the locales that passed their checks
    subset_tasks: list[SubsetTask] = []
    for locale in chosen_locales:
        passed = manifest.get(check_key(locale))
        prepared = prepare_locale(project, locale, content, plan, passed.inputs if passed else None)
        if prepared.problems:
            result.problems += prepared.problems
            result.skipped_locales.append(locale)
            progress(f"{locale}: skipped, {len(prepared.problems)} problem(s); "
                     f"see `handouts check --locale {locale}`")
            continue
        ready[locale] = prepared
        stack, files, tasks = subset_plan(project, plan, locale, partial(
            printable_chars, project, locale, prepared.catalog, content))
        subset_files += files
        subset_tasks += tasks
        stacks[locale] = stack
        strings = strings_by_source(prepared.catalog)
        for handout in chosen_handouts:
            if not in_shard(locale, handout.id, shard):
                continue
            inputs = handout_inputs(project, common, handout, locale, strings, prepared.draft, stack)
            for edition in editions:
                key = manifest_key(locale, handout.id, edition)
                wanted[key] = inputs
                entry = manifest.get(key)
                pdf = pdf_path(project, locale, handout.id, edition)
                if entry and entry.inputs == inputs and pdf.exists():
                    result.unchanged.append(Output(locale, handout.id, pdf, html_path(project, locale, handout.id, edition),
                                                   entry.pages, edition))
                else:
                    jobs.append(Job(locale, handout.id, prepared.draft, stack, edition))

    make_subsets(subset_tasks, progress)
    fontconfig = str(activate_fontconfig(project, plan, tuple(subset_files)).resolve())
    jobs = [replace(job, fontconfig=fontconfig) for job in jobs]
    if jobs:
        progress(f"rendering {len(jobs)} PDF(s); {len(result.unchanged)} unchanged")
    outputs, problems = run_jobs(project, jobs, pool.for_jobs(len(jobs)), progress)
    result.outputs = sorted(outputs, key=lambda o: (o.edition != "standard", o.locale, o.handout_id))
    result.problems += problems

    manifest = read_manifest(project)
    for locale, prepared in ready.items():
        manifest[check_key(locale)] = Entry(prepared.inputs, 0)
    for output in result.outputs:
        key = manifest_key(output.locale, output.handout_id, output.edition)
        manifest[key] = Entry(wanted[key], output.pages)
    if whole_library and shard[0] == 1:
        try:
            build_language_assistance(project, content, ready, stacks, common, manifest, progress)
        except HandoutError as exc:
            result.problems.append(Problem(LANGUAGE_ASSISTANCE_PDF, 0, f"render failed: {exc}"))
        for line in build_packets(project, content, tuple(ready), manifest):
            progress(line)
    # The catalog page: written again only when a PDF or a locale's state changed.
    catalog_inputs = hashlib.sha256("\0".join([common, *(f"{loc}:{p.inputs}:{p.status}" for loc, p in ready.items()),
                                                *(f"{h.path}:{h.revision.number}" for h in content.handouts),
                                                *approval_summary(project, content)]
                                               ).encode()).hexdigest()
    page = project.build_dir / "index.html"
    if result.outputs or not page.exists() or manifest.get("catalog", Entry("", 0)).inputs != catalog_inputs:
        languages = {loc: (prepared.translations, prepared.status) for loc, prepared in ready.items()}
        progress(f"catalog: {write_catalog(project, content, languages)}")
        manifest["catalog"] = Entry(catalog_inputs, 0)
    write_manifest(project, manifest)
    pages = {(o.handout_id, o.locale): o.pages for o in (*result.outputs, *result.unchanged)
             if o.edition == "standard"}
    result.problems += check_page_budget(pages, settings.limits,
                                         project.rel(project.build_dir / MANIFEST_FILE))
    return result
