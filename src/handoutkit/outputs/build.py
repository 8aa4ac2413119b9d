"""The orchestrator: content, catalogs, checks, fonts, render, PDF, in that order.

Everything is read and checked before anything is written. A locale whose
catalog is broken or incomplete, or whose text a pinned font cannot draw, is
skipped with its problems listed; the other locales still build, and the
result says the build failed.
"""

from __future__ import annotations

import datetime as dt
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

from handoutkit.content.approval import approval_state, read_approvals
from handoutkit.content.handouts import Content, Handout, handout_texts, load_content
from handoutkit.content.lint import check_page_budget
from handoutkit.content.settings import Project
from handoutkit.errors import HandoutError, Problem
from handoutkit.files import atomic_write
from handoutkit.outputs.manifest import (
    MANIFEST_FILE,
    Entry,
    check_key,
    common_inputs,
    handout_inputs,
    read_manifest,
    strings_by_source,
    write_manifest,
)
from handoutkit.outputs.manifest import key as manifest_key
from handoutkit.outputs.packets import build_packets
from handoutkit.outputs.targets import (
    EDITIONS,
    LIBRARY_TARGETS,
    Library,
    LibraryTarget,
    stale,
    write_target,
)
from handoutkit.outputs.web import web_url
from handoutkit.render.fonts import SubsetTask, activate_fontconfig, subset_plan
from handoutkit.render.renderer import (
    PdfWriter,
    format_long_date,
    make_renderer,
    native_language_name,
)
from handoutkit.translation.catalogs import read_template, translations_from
from handoutkit.translation.fontplan import FontPlan, load_font_plan, require_font_files
from handoutkit.translation.prepared import PreparedLocale, prepare_locale

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
    mo: bytes = b""  # the locale's checked translations, compiled: workers never read the PO file


@dataclass(frozen=True)
class Output:
    locale: str
    handout_id: str
    pdf: Path | None  # None for an HTML-only edition (the web edition)
    html: Path
    pages: int
    edition: str = "standard"

    @property
    def product(self) -> Path:
        """What readers get: the PDF, or the page of an HTML-only edition."""
        return self.pdf or self.html


@dataclass
class BuildResult:
    outputs: list[Output] = field(default_factory=list)  # rendered by this build
    unchanged: list[Output] = field(default_factory=list)  # up to date, not rendered again
    problems: list[Problem] = field(default_factory=list)
    skipped_locales: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


LANGUAGE_ASSISTANCE_PDF = "build/pdf/language-assistance.pdf"  # where targets.LANGUAGE_ASSISTANCE writes


def pdf_path(project: Project, locale: str, handout_id: str, edition: str = "standard") -> Path | None:
    return EDITIONS[edition].pdf(project, locale, handout_id)


def html_path(project: Project, locale: str, handout_id: str, edition: str = "standard") -> Path:
    return EDITIONS[edition].html(project, locale, handout_id)


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


def _renderer(locale: str, draft: bool, font_stack: tuple[str, ...], mo: bytes):
    """One renderer per locale, made from the translations the job carries (checked in the main process)."""
    key = (locale, draft, font_stack, hash(mo))
    if key not in _worker["renderers"]:
        project: Project = _worker["project"]
        _worker["renderers"][key] = make_renderer(project, locale, translations_from(mo), font_stack, draft,
                                                  _worker["approvals"], partial(web_url, project.settings))
    return _worker["renderers"][key]


def _writer(fontconfig: str) -> PdfWriter:
    """The worker's PdfWriter (its FontConfiguration stays warm), for the fonts this fontconfig file shows."""
    if _worker["writer"] is None or _worker["fontconfig"] != fontconfig:
        os.environ["FONTCONFIG_FILE"] = fontconfig
        _worker["writer"] = PdfWriter(_worker["project"])
        _worker["fontconfig"] = fontconfig
    return _worker["writer"]


def render_job(job: Job) -> Output:
    """Render one handout in one locale and write its HTML and PDF (if the edition makes one) atomically."""
    project: Project = _worker["project"]
    writer = _writer(job.fontconfig)
    handout = _worker["content"].get(job.handout_id)
    renderer = _renderer(job.locale, job.draft, job.font_stack, job.mo)
    edition = EDITIONS[job.edition]
    made = edition.make(renderer, writer, handout, project)
    html_file = edition.html(project, job.locale, job.handout_id)
    pdf_file = edition.pdf(project, job.locale, job.handout_id)
    atomic_write(html_file, made.html.encode("utf-8"), durable=False)
    if made.pdf is not None and pdf_file is not None:
        atomic_write(pdf_file, made.pdf, durable=False)
    return Output(job.locale, job.handout_id, pdf_file, html_file, made.pages, job.edition)


def render_pdf_job(html: str, fontconfig: str) -> tuple[bytes, int]:
    """A library target's PDF (the language-assistance sheet), rendered in a worker."""
    return _writer(fontconfig).pdf(html)


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
    order = sorted(jobs, key=lambda j: (not EDITIONS[j.edition].heavy, "handoutkit" not in " ".join(j.font_stack)))

    def record(index: int, job: Job, result: Output | Exception) -> None:
        name = f"{job.locale}/{job.handout_id}"
        if isinstance(result, Exception):
            problems.append(Problem(f"build/pdf/{name}.pdf", 0, f"render failed: {result}"))
            progress(f"[{index}/{total}] {name}: FAILED: {result}")
        else:
            outputs.append(result)
            size = f"{result.pages} page{'s' if result.pages != 1 else ''}" if result.pdf else "web page"
            progress(f"[{index}/{total}] {project.rel(result.product)} ({size})")

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


# ---------------------------------------------------------------- the pipeline


def library(project: Project, content: Content, ready: dict[str, PreparedLocale],
            stacks: dict[str, tuple[str, ...]], common: str, manifest: dict[str, Entry],
            render_pdf: Callable[[str], tuple[bytes, int]] | None = None,
            approvals: tuple[str, ...] | None = None) -> Library:
    """What the library targets are made from, as the manifest stands (`approvals`: approval_summary's,
    when the caller has it already)."""
    own = {target.key for target in LIBRARY_TARGETS}
    pdfs = tuple(sorted(key for key, entry in manifest.items() if entry.pages and key not in own))
    if approvals is None:
        approvals = tuple(approval_summary(project, content))
    return Library(project, content, ready, stacks, common, pdfs, approvals, render_pdf)


def due_targets(lib: Library, manifest: dict[str, Entry], whole_library: bool,
                targets: tuple[LibraryTarget, ...] = LIBRARY_TARGETS) -> list[tuple[LibraryTarget, str]]:
    """The library targets this build writes, with their new input hashes."""
    due = []
    for target in targets:
        if target.whole_library and not whole_library:
            continue
        recorded = manifest.get(target.key)
        if (inputs := stale(target, lib, recorded.inputs if recorded else None)) is not None:
            due.append((target, inputs))
    return due


def start_library_pdfs(lib: Library, manifest: dict[str, Entry], whole_library: bool,
                       pool: ProcessPoolExecutor | None, fontconfig: str) -> Callable[[str], tuple[bytes, int]] | None:
    """Start rendering the due PDF targets that need only the locales (the language-assistance
    sheet) in the pool, ahead of the editions: a warm worker renders it while the other renders
    the first handout, rather than this process importing WeasyPrint after the last one.
    Returns what `Library.render_pdf` should be (None: render here)."""
    if pool is None:
        return None
    from_html = tuple(target for target in LIBRARY_TARGETS if target.html)
    started = {html: pool.submit(render_pdf_job, html, fontconfig)
               for target, _ in due_targets(lib, manifest, whole_library, from_html)
               for html in [target.html(lib)]}

    def render_pdf(html: str) -> tuple[bytes, int]:
        return (started.get(html) or pool.submit(render_pdf_job, html, fontconfig)).result()

    return render_pdf


def write_library_targets(lib: Library, manifest: dict[str, Entry], result: BuildResult, whole_library: bool,
                          progress: Progress) -> None:
    """Write each library target (language sheet, catalog page) whose inputs changed."""
    for target, inputs in due_targets(lib, manifest, whole_library):
        try:
            pages, line = write_target(target, lib)
        except HandoutError as exc:
            result.problems.append(Problem(lib.project.rel(target.path(lib.project)), 0, str(exc).split(": ", 1)[-1]))
            continue
        manifest[target.key] = Entry(inputs, pages)
        progress(line)


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
                wanted[key] = EDITIONS[edition].inputs(inputs)
                entry = manifest.get(key)
                pdf = pdf_path(project, locale, handout.id, edition)
                if entry and entry.inputs == wanted[key] and EDITIONS[edition].product(project, locale, handout.id).exists():
                    result.unchanged.append(Output(locale, handout.id, pdf, html_path(project, locale, handout.id, edition),
                                                   entry.pages, edition))
                else:
                    jobs.append(Job(locale, handout.id, prepared.draft, stack, edition, mo=prepared.mo))

    make_subsets(subset_tasks, progress)
    fontconfig = str(activate_fontconfig(project, plan, tuple(subset_files)).resolve())
    jobs = [replace(job, fontconfig=fontconfig) for job in jobs]
    if jobs:
        progress(f"rendering {len(jobs)} PDF(s); {len(result.unchanged)} unchanged")
    whole_library = whole_library and shard[0] == 1
    executor = pool.for_jobs(len(jobs))
    # The approval files are read and fingerprinted once, for both looks at the library targets.
    approvals = tuple(approval_summary(project, content))
    recorded = read_manifest(project)  # what the library targets are checked against (also after --force)
    render_pdf = start_library_pdfs(library(project, content, ready, stacks, common, recorded, approvals=approvals),
                                    recorded, whole_library, executor, fontconfig)
    outputs, problems = run_jobs(project, jobs, executor, progress)
    result.outputs = sorted(outputs, key=lambda o: (o.edition != "standard", o.locale, o.handout_id))
    result.problems += problems

    manifest = read_manifest(project)
    for locale, prepared in ready.items():
        manifest[check_key(locale)] = Entry(prepared.inputs, 0)
    for output in result.outputs:
        key = manifest_key(output.locale, output.handout_id, output.edition)
        manifest[key] = Entry(wanted[key], output.pages)
    if whole_library:  # packets first: the catalog page links the ones that exist
        for line in build_packets(project, content, tuple(ready), manifest, executor):
            progress(line)
    write_library_targets(library(project, content, ready, stacks, common, manifest, render_pdf, approvals),
                          manifest, result, whole_library=whole_library, progress=progress)
    write_manifest(project, manifest)
    pages = {(o.handout_id, o.locale): o.pages for o in (*result.outputs, *result.unchanged)
             if o.edition == "standard"}
    result.problems += check_page_budget(pages, settings.limits,
                                         project.rel(project.build_dir / MANIFEST_FILE))
    return result
