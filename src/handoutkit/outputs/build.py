"""The orchestrator: content, catalogs, checks, fonts, render, PDF, in that order.

Everything is read and checked before anything is written. A locale whose
catalog is broken or incomplete, or whose text a pinned font cannot draw, is
skipped with its problems listed; the other locales still build, and the
result says the build failed.
"""

from __future__ import annotations

import os
import re
import sys
import time
import zlib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Callable

from handoutkit.content.approval import approval_state, read_approvals
from handoutkit.content.handouts import Content, Handout, load_content
from handoutkit.content.lint import check_page_budget
from handoutkit.content.settings import Project
from handoutkit.errors import HandoutError, Problem
from handoutkit.outputs.editions import EDITIONS
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
from handoutkit.outputs.packets import build_packets, load_packets, packet_path
from handoutkit.outputs.targets import (
    LIBRARY_TARGETS,
    Library,
    LibraryTarget,
    stale,
    write_target,
)
from handoutkit.outputs.web import web_url
from handoutkit.render import clock
from handoutkit.render.ready import (  # noqa: F401 (printable_chars and make_subsets: imported from here too)
    ReadyLibrary,
    make_subsets,
    open_library,
    printable_chars,
    with_fonts,
    with_locales,
)
from handoutkit.render.ink import ink_problem, require_poppler
from handoutkit.render.renderer import PdfWriter, make_renderer, process_writer
from handoutkit.translation.catalogs import translations_from
from handoutkit.translation.checks import is_not_translated
from handoutkit.translation.extract import current_template, pot_problems
from handoutkit.translation.fontplan import load_font_plan
from handoutkit.translation.prepared import PreparedLocale

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
    pdf: Path | None  # None for an edition that makes no PDF (the web edition)
    html: Path | None  # the HTML page, when the edition keeps one
    pages: int
    edition: str = "standard"
    product: Path | None = None  # what readers get (the edition says which file that is)
    # Seconds per phase the worker spent on this output (render.clock), for the bench's breakdown.
    timings: tuple[tuple[str, float], ...] = field(default=(), compare=False)
    note: str = ""  # said with its progress line (Made.note)


def edition_output(project: Project, locale: str, handout_id: str, edition: str, pages: int) -> Output:
    """One edition's files of one handout in one locale, as the edition names them."""
    made_by = EDITIONS[edition]
    return Output(locale, handout_id, made_by.pdf(project, locale, handout_id),
                  made_by.html(project, locale, handout_id), pages, edition,
                  made_by.product(project, locale, handout_id))


@dataclass
class BuildResult:
    outputs: list[Output] = field(default_factory=list)  # rendered by this build
    unchanged: list[Output] = field(default_factory=list)  # up to date, not rendered again
    problems: list[Problem] = field(default_factory=list)
    skipped_locales: list[str] = field(default_factory=list)
    # Where the time went: the build's own steps (wall seconds), the render workers' phases summed
    # over every output (seconds of work), and how many processes rendered.
    steps: dict[str, float] = field(default_factory=dict)
    work: dict[str, float] = field(default_factory=dict)
    processes: int = 1
    withdrawn: list[Path] = field(default_factory=list)  # outputs of a locale that no longer passes, removed

    @property
    def ok(self) -> bool:
        return not self.problems


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
                   plan=load_font_plan(project), renderers={})


def _ready() -> bool:
    return True


def _renderer(locale: str, draft: bool, font_stack: tuple[str, ...], mo: bytes):
    """One renderer per locale, made from the translations the job carries (checked in the main process)."""
    key = (locale, draft, font_stack, hash(mo))
    if key not in _worker["renderers"]:
        project: Project = _worker["project"]
        _worker["renderers"][key] = make_renderer(project, locale, translations_from(mo), font_stack, draft,
                                                  _worker["approvals"], partial(web_url, project.settings),
                                                  strict=True)
    return _worker["renderers"][key]


def _writer(fontconfig: str) -> PdfWriter:
    """The worker's PdfWriter (its FontConfiguration stays warm), for the fonts this fontconfig file shows."""
    return process_writer(_worker["project"], fontconfig)


def render_job(job: Job) -> Output:
    """Render one handout in one locale and write its HTML and PDF (if the edition makes one) atomically."""
    project: Project = _worker["project"]
    writer = _writer(job.fontconfig)
    handout = _worker["content"].get(job.handout_id)
    renderer = _renderer(job.locale, job.draft, job.font_stack, job.mo)
    edition = EDITIONS[job.edition]
    clock.take()  # this job's phases only
    made = edition.make(renderer, writer, handout, project)
    if made.data is not None and edition.suffix == ".pdf":
        require_ink(made.data, project.rel(edition.product(project, job.locale, job.handout_id)), job)
    edition.write(project, job.locale, job.handout_id, made)
    return replace(edition_output(project, job.locale, job.handout_id, job.edition, made.pages),
                   timings=tuple(clock.take().items()), note=made.note)


def require_ink(pdf: bytes, label: str, job: Job) -> None:
    """The first PDF of each locale and font set a worker renders is looked at on paper: a damaged
    font that slipped past its pin would print blank words under a complete text layer."""
    checked = _worker.setdefault("inked", set())
    if (job.locale, job.font_stack, job.fontconfig) in checked:
        return
    problem = ink_problem(pdf, label)
    if problem:
        raise HandoutError(f"{problem} (fonts: {', '.join(job.font_stack)}; see {job.fontconfig}); "
                           "nothing was written")
    checked.add((job.locale, job.font_stack, job.fontconfig))


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
            problems.append(Problem(project.rel(EDITIONS[job.edition].product(project, job.locale, job.handout_id)),
                                    0, f"render failed: {result}"))
            progress(f"[{index}/{total}] {name}: FAILED: {result}")
        else:
            outputs.append(result)
            size = f"{result.pages} page{'s' if result.pages != 1 else ''}" if result.pdf else "web page"
            note = f"; {result.note}" if result.note else ""
            progress(f"[{index}/{total}] {project.rel(result.product)} ({size}{note})")

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


def locale_group(locales: tuple[str, ...], group: tuple[int, int]) -> tuple[str, ...]:
    """The K-th of N groups of the published locales, dealt in clinic.yaml's order (locale i goes to
    group i mod N + 1): a CI runner that builds one group prepares and checks only its own locales."""
    index, count = group
    return tuple(locale for position, locale in enumerate(locales) if position % count == index - 1)


def parse_shard(text: str, option: str = "--shard") -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)/(\d+)", text.strip())
    if not match or not 1 <= int(match[1]) <= int(match[2]):
        raise HandoutError(f"{option} {text!r}: expected K/N with 1 <= K <= N, such as 2/4")
    return int(match[1]), int(match[2])


def withdraw(project: Project, content: Content, locale: str, handout_ids: tuple[str, ...]) -> tuple[list[Path], set[str]]:
    """Remove what a locale that no longer passes had published for these handouts: every edition's
    PDF and page, and the packets holding one of them. Returns the files removed and the manifest
    keys to forget. A front desk can then neither find nor print a page the checks no longer pass."""
    removed, keys = [], {check_key(locale)}
    for handout_id in handout_ids:
        for name, edition in EDITIONS.items():
            keys.add(manifest_key(locale, handout_id, name))
            for path in {edition.product(project, locale, handout_id), edition.html(project, locale, handout_id)}:
                if path is not None and path.exists():
                    path.unlink()
                    removed.append(path)
    for packet in load_packets(project, content):
        if set(packet.handouts) & set(handout_ids):
            keys.add(f"packet:{locale}/{packet.id}")
            if (path := packet_path(project, locale, packet.id)).exists():
                path.unlink()
                removed.append(path)
    return removed, keys


# ---------------------------------------------------------------- fonts


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
                          progress: Progress, watch: clock.Stopwatch | None = None) -> None:
    """Write each library target (language sheet, catalog page) whose inputs changed."""
    watch = watch or clock.Stopwatch()
    for target, inputs in due_targets(lib, manifest, whole_library):
        try:
            with watch(target.key):
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


# ---------------------------------------------------------------- the gate (`handouts check`)


@dataclass(frozen=True)
class LocaleGate:
    """One locale as the build sees it: can it print, and why not."""

    locale: str
    source: bool
    file: str  # its PO file (the YAML for the source language)
    ok: bool  # the build would print it
    status: str  # PreparedLocale.status
    total: int  # strings the content prints now
    translated: int
    fuzzy: int
    untranslated: int  # empty, or missing from the file
    words_left: int  # English words of the strings not translated (empty, fuzzy or missing)
    safety_open: int | None  # safety-critical entries not back-translated; None when unreadable
    findings: list[Problem]  # everything found: errors block printing, warnings are shown
    review_problem: str = ""  # a recorded review that does not count (PreparedLocale.review_problem)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.findings if p.severity == "error"]

    @property
    def other_errors(self) -> list[Problem]:
        """The errors besides the strings not translated yet (those are counted as fuzzy or untranslated)."""
        return [p for p in self.errors if not is_not_translated(p)]


@dataclass(frozen=True)
class GateResult:
    problems: list[Problem]  # about the project, not one locale (an out-of-date handouts.pot)
    locales: list[LocaleGate]

    @property
    def ok(self) -> bool:
        return not self.problems and all(loc.ok for loc in self.locales)


WORD = re.compile(r"\w+")


def locale_gate(project: Project, prepared: PreparedLocale) -> LocaleGate:
    """The figures of one prepared locale, all counted against the strings the content prints now."""
    locale = prepared.locale
    template = [m for m in current_template(project) if m.id]
    if prepared.status == "source" or locale == project.settings.source_locale:
        return LocaleGate(locale, True, "handouts/", prepared.ok, prepared.status, len(template), len(template),
                          0, 0, 0, 0, sorted(set(prepared.problems)))
    report, catalog = prepared.report, prepared.catalog
    findings = sorted(set([*(report.problems if report else []), *prepared.problems]))
    done = {(m.context, str(m.id)) for m in catalog or () if m.id and m.string and not m.fuzzy}
    fuzzy = {(m.context, str(m.id)) for m in catalog or () if m.id and m.fuzzy}
    todo = [m for m in template if (m.context, str(m.id)) not in done]
    in_fuzzy = sum(1 for m in todo if (m.context, str(m.id)) in fuzzy)
    return LocaleGate(locale, False, project.rel(project.po_path(locale)), prepared.ok, prepared.status,
                      len(template), len(template) - len(todo), in_fuzzy, len(todo) - in_fuzzy,
                      sum(len(WORD.findall(str(m.id))) for m in todo),
                      prepared.safety_open if catalog is not None else None, findings, prepared.review_problem)


def gate(project: Project, locales: tuple[str, ...] | None = None) -> GateResult:
    """What `handouts check` answers: each locale prepared exactly as the build prepares it
    (every check, the font coverage), after everything the build refuses before any locale
    (the content, the approval records, the font files), and handouts.pot against a fresh extraction.
    `locales` may name unpublished catalogs too (a translator checks one before it is published)."""
    setup = open_library(project)
    problems = pot_problems(project)
    chosen = locales or project.settings.locales
    known = (project.settings.source_locale, *project.catalog_locales())
    if unknown := [loc for loc in chosen if loc not in known]:
        raise HandoutError("; ".join(f"no catalog for locale '{loc}' (have: {', '.join(known)})" for loc in unknown))
    setup = with_locales(setup, tuple(chosen))
    return GateResult(problems, [locale_gate(project, setup.prepared[loc]) for loc in chosen])


def build(project: Project, locales: tuple[str, ...] | None = None,
          handout_ids: tuple[str, ...] | None = None, workers: int | None = None,
          force: bool = False, editions: tuple[str, ...] = tuple(EDITIONS),
          shard: tuple[int, int] = (1, 1), progress: Progress = lambda line: print(line, file=sys.stderr)) -> BuildResult:
    """Build build/pdf/<locale>/<id>.pdf (and build/html/...) for the chosen handouts and locales."""
    started = time.perf_counter()
    settings = project.settings
    setup = open_library(project)  # the content, its approval records, the font files: checked before any work
    require_poppler()  # renders are checked for ink
    current_template(project)  # what the content prints now: every locale is checked against it
    chosen_locales, chosen_handouts = select(setup.content, settings.locales, locales, handout_ids)

    result = BuildResult()
    manifest = {} if force else read_manifest(project)
    watch = clock.Stopwatch()
    watch.seconds["load"] = time.perf_counter() - started
    # A build with no record of earlier outputs will render: its workers start now, so
    # their start-up (importing WeasyPrint) overlaps the checks below.
    pool = WorkerPool(project, workers or default_jobs(), start_now=not manifest)
    with pool:
        _build(project, result, manifest, pool, setup, chosen_locales, chosen_handouts,
               whole_library=locales is None and handout_ids is None, editions=editions,
               shard=shard, progress=progress, watch=watch)
        shutdown = time.perf_counter()
    watch.seconds["pool shutdown"] = time.perf_counter() - shutdown
    result.steps = watch.seconds
    result.processes = pool.workers if pool.pool is not None else 1
    for output in result.outputs:
        for phase, seconds in output.timings:
            result.work[phase] = result.work.get(phase, 0.0) + seconds
    return result


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
           setup: ReadyLibrary, chosen_locales: tuple[str, ...],
           chosen_handouts: tuple[Handout, ...], whole_library: bool, editions: tuple[str, ...],
           shard: tuple[int, int], progress: Progress, watch: clock.Stopwatch) -> BuildResult:
    """The pipeline proper: check each locale, plan the jobs, render, record (each step timed by `watch`)."""
    settings = project.settings
    content, plan = setup.content, setup.plan
    common = common_inputs(project, plan)
    wanted: dict[str, str] = {}  # manifest key -> input hash, for every PDF this build covers
    jobs: list[Job] = []
    forget: set[str] = set()  # manifest keys of withdrawn outputs
    with watch("checks"):
        passed = {loc: entry.inputs for loc in chosen_locales if (entry := manifest.get(check_key(loc)))}
        setup = with_locales(setup, chosen_locales, passed)
        for locale, prepared in setup.prepared.items():
            if not prepared.problems:
                continue
            result.problems += prepared.problems
            result.skipped_locales.append(locale)
            removed, keys = withdraw(project, content, locale, tuple(h.id for h in chosen_handouts))
            result.withdrawn += removed
            forget |= keys
            progress(f"{locale}: skipped, {len(prepared.problems)} problem(s); "
                     f"see `handouts check --locale {locale}`"
                     + (f"; withdrew {len(removed)} file(s) it had published" if removed else ""))
    with watch("subsets"):
        setup = with_fonts(setup, progress)
    ready, stacks, fontconfig = setup.ready, setup.stacks, setup.fontconfig  # ready: the locales that print
    with watch("checks"):  # the jobs planned: what changed since the manifest
        for locale, prepared in ready.items():
            stack = stacks[locale]
            strings = strings_by_source(prepared.catalog)
            for handout in chosen_handouts:
                if not in_shard(locale, handout.id, shard):
                    continue
                inputs = handout_inputs(project, common, handout, locale, strings, prepared.draft, stack)
                for edition in editions:
                    key = manifest_key(locale, handout.id, edition)
                    wanted[key] = EDITIONS[edition].inputs(inputs)
                    entry = manifest.get(key)
                    if entry and entry.inputs == wanted[key] and \
                            EDITIONS[edition].product(project, locale, handout.id).exists():
                        result.unchanged.append(edition_output(project, locale, handout.id, edition, entry.pages))
                    else:
                        jobs.append(Job(locale, handout.id, prepared.draft, stack, edition, mo=prepared.mo))
    jobs = [replace(job, fontconfig=fontconfig) for job in jobs]
    if jobs:
        progress(f"rendering {len(jobs)} PDF(s); {len(result.unchanged)} unchanged")
    whole_library = whole_library and shard[0] == 1
    with watch("library inputs"):
        executor = pool.for_jobs(len(jobs))
        # The approval files are read and fingerprinted once, for both looks at the library targets.
        approvals = tuple(approval_summary(project, content))
        # What the library targets are checked against (also after --force), without withdrawn outputs.
        recorded = {key: entry for key, entry in read_manifest(project).items() if key not in forget}
        render_pdf = start_library_pdfs(library(project, content, ready, stacks, common, recorded,
                                                approvals=approvals), recorded, whole_library, executor, fontconfig)
    with watch("render"):
        outputs, problems = run_jobs(project, jobs, executor, progress)
    result.outputs = sorted(outputs, key=lambda o: (o.edition != "standard", o.locale, o.handout_id))
    result.problems += problems

    manifest = {key: entry for key, entry in read_manifest(project).items() if key not in forget}
    for locale, prepared in ready.items():
        manifest[check_key(locale)] = Entry(prepared.inputs, 0)
    for output in result.outputs:
        key = manifest_key(output.locale, output.handout_id, output.edition)
        manifest[key] = Entry(wanted[key], output.pages)
    if whole_library:  # packets first: the catalog page links the ones that exist
        with watch("packets"):
            for line in build_packets(project, content, tuple(ready), manifest, EDITIONS["standard"], executor):
                progress(line)
    write_library_targets(library(project, content, ready, stacks, common, manifest, render_pdf, approvals),
                          manifest, result, whole_library=whole_library, progress=progress, watch=watch)
    with watch("manifest"):
        write_manifest(project, manifest)
    pages = {(o.handout_id, o.locale): o.pages for o in (*result.outputs, *result.unchanged)
             if o.edition == "standard"}
    result.problems += check_page_budget(pages, settings.limits,
                                         project.rel(project.build_dir / MANIFEST_FILE))
    return result
