"""Front desk, rendering: personalised prints in a pool of warm worker processes.

WeasyPrint is CPU-bound and keeps per-process state (one FontConfiguration),
so threads do not scale: several desks are served by several processes. Each
worker is warmed up before the server says it is ready: fonts, content, the
prepared locales, one Jinja environment per locale, and one render per locale
(fonts loaded, templates compiled). Personalised prints go through the same
prepared locales, the same copyfitting and the same per-locale CJK font
subsets as `make pdf`.

Patient details live only in the job and in the returned PDF: a worker never
logs them and never lets them reach a traceback (errors come back as a
sanitised description naming the exception type and where it was raised).
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import threading
import time
import traceback
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from handoutkit.content.approval import fingerprint as english_fingerprint
from handoutkit.content.approval import read_approvals
from handoutkit.content.handouts import (
    Content,
    Handout,
    handout_texts,
    load_content,
    translate,
)
from handoutkit.content.settings import Project
from handoutkit.errors import HandoutError, Problem
from handoutkit.outputs.build import make_subsets, printable_chars
from handoutkit.outputs.editions import copyfit
from handoutkit.outputs.manifest import common_inputs
from handoutkit.outputs.packets import blank_page_html, lay_out_packet
from handoutkit.outputs.web import web_url
from handoutkit.render.fonts import activate_fontconfig, subset_plan, use_fontconfig
from handoutkit.render.renderer import PdfWriter, Renderer, make_renderer
from handoutkit.translation.catalogs import translations_from
from handoutkit.translation.fontplan import FontPlan, load_font_plan, require_font_files
from handoutkit.translation.locales import html_lang
from handoutkit.translation.prepared import PreparedLocale, prepare_locale

__all__ = ["PreparedLocale", "DeskSetup", "prepare_desk", "PrintJob", "Rendered", "Version", "DeskPool", "Busy"]


# ---------------------------------------------------------------- what the parent prepares once


@dataclass(frozen=True)
class DeskSetup:
    """Everything checked once at start, in the server process."""

    project: Project
    content: Content
    plan: FontPlan
    ready: dict[str, PreparedLocale]  # the printable locales
    unavailable: dict[str, str]  # locale -> why it cannot be printed (shown on the form)
    stacks: dict[str, tuple[str, ...]]  # locale -> font stack (CJK subsets first, full faces as fallback)
    fontconfig: str  # the fontconfig file showing the pinned fonts and the subsets
    tool: str  # hash of templates, clinic settings, fonts and code: part of every archived version


def _reason(problems: list[Problem]) -> str:
    first = str(problems[0])
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in its translation: {first}{more}"


def prepare_desk(project: Project, progress=lambda line: None) -> DeskSetup:
    """Check every published locale as the build does; make the CJK subsets the build makes."""
    plan = load_font_plan(project)
    require_font_files(plan)
    content = load_content(project.handouts_dir, project.root)
    read_approvals(project, content)  # a damaged approval record stops the server before it starts
    ready: dict[str, PreparedLocale] = {}
    unavailable: dict[str, str] = {}
    stacks: dict[str, tuple[str, ...]] = {}
    subset_files: list[Path] = []
    tasks = []
    for locale in project.settings.locales:
        try:
            prepared = prepare_locale(project, locale, content, plan)
        except HandoutError as exc:  # an unreadable review record, for one
            unavailable[locale] = str(exc)
            continue
        if prepared.problems:
            unavailable[locale] = _reason(prepared.problems)
            continue
        ready[locale] = prepared
        stack, files, locale_tasks = subset_plan(project, plan, locale, partial(
            printable_chars, project, locale, prepared.catalog, content))
        # The full faces stay behind the subsets: a patient's name may use a character that
        # no handout prints (a rare Han character), and it must print, if at a larger size.
        stacks[locale] = stack + tuple(name for name in plan.stack(locale) if name not in stack)
        subset_files += files
        tasks += locale_tasks
    make_subsets(tasks, progress)
    fontconfig = str(activate_fontconfig(project, plan, tuple(subset_files)).resolve())
    return DeskSetup(project, content, plan, ready, unavailable, stacks, fontconfig,
                     common_inputs(project, plan))


# ---------------------------------------------------------------- jobs and results


@dataclass(frozen=True)
class PrintJob:
    """One handout to render. `details` is None for the unpersonalised (archived) version."""

    handout_id: str
    locale: str
    details: dict[str, str] | None
    clinic_phone: str = ""  # the desk's override, or "" for the clinic's own number
    edition: str = "standard"
    # The same handout without details needed the tight layout: the details only add
    # length, so the first layout is skipped (same result as copyfit, one layout less).
    start_tight: bool = False


@dataclass(frozen=True)
class Version:
    """What identifies the handout a patient received, without anything about the patient."""

    handout: str
    revision: int
    locale: str
    edition: str
    english_sha256: str  # the English texts, revision and clinic settings (with the phone as printed)
    translation_sha256: str  # the locale's translation of every text the handout prints
    tool_sha256: str  # templates, fonts and code
    clinic_phone: str = ""

    @property
    def key(self) -> str:
        return hashlib.sha256("\0".join([self.handout, str(self.revision), self.locale, self.edition,
                                         self.english_sha256, self.translation_sha256, self.tool_sha256,
                                         self.clinic_phone]).encode()).hexdigest()


@dataclass(frozen=True)
class Rendered:
    version: Version | None  # None only when the render failed
    pdf: bytes = b""
    pages: int = 0
    over_budget: bool = False  # more pages than the budget even after copyfitting (pdf is empty)
    tight: bool = False  # printed with the tight (copyfitted) layout
    error: str = ""  # a sanitised description of an unexpected failure (no patient data)


def sanitised(exc: BaseException) -> str:
    """The exception's type and where it was raised, never its message (which may quote a field)."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__}{where}"


# ---------------------------------------------------------------- the worker side

_state: dict[str, Any] = {}


def watch_server(server_pid: int, every: float = 2.0) -> None:
    """A worker ends when the server is gone (killed, crashed): its queue never tells it, since
    every worker holds the queue's write end too."""
    def watch() -> None:
        while True:
            time.sleep(every)
            try:
                os.kill(server_pid, 0)
            except ProcessLookupError:
                os._exit(0)
            except PermissionError:
                pass

    threading.Thread(target=watch, name="server-watch", daemon=True).start()


def init_worker(root: str, fontconfig: str, checked: dict[str, tuple[bytes, bool]],
                stacks: dict[str, tuple[str, ...]], tool: str, barrier: Any = None,
                server_pid: int | None = None) -> dict[str, Any]:
    """Per process: content, one renderer per locale made from the translations the server
    checked (compiled MO bytes and the draft flag: a worker never reads a PO file), one
    PdfWriter, and one render per locale."""
    if server_pid is not None:
        watch_server(server_pid)
    use_fontconfig(fontconfig)
    project = Project(Path(root))
    content = load_content(project.handouts_dir, project.root)
    approvals = read_approvals(project, content)
    renderers: dict[str, Renderer] = {}
    for locale, (mo, draft) in checked.items():
        renderers[locale] = make_renderer(project, locale, translations_from(mo), stacks[locale], draft, approvals,
                                          partial(web_url, project.settings), strict=True)
    state = dict(project=project, content=content, renderers=renderers, writer=PdfWriter(project),
                 tool=tool, barrier=barrier)
    _state.clear()
    _state.update(state)  # a worker process has one state; an inline pool keeps its own
    # Warm up: the shortest handout in every locale, so no desk waits for a font or a template.
    shortest = min(content.handouts, key=lambda h: sum(len(t.value) for t in handout_texts(h)))
    for locale in renderers:
        render_print(PrintJob(shortest.id, locale, None), state)
    return state


def wait_ready(timeout: float) -> int:
    """Blocks until every worker has started: each of N such calls runs in a different process."""
    barrier = _state.get("barrier")
    if barrier is not None:
        barrier.wait(timeout)
    return os.getpid()


def version_of(renderer: Renderer, handout: Handout, job: PrintJob, tool: str,
               cache: dict | None = None) -> Version:
    """The version printed; computed once per handout, locale, edition and phone in a worker."""
    key = (handout.id, job.locale, job.edition, job.clinic_phone)
    if cache is not None and key in cache:
        return cache[key]
    translations = hashlib.sha256("\x1e".join(translate(renderer.translations, t)
                                              for t in handout_texts(handout)).encode()).hexdigest()
    version = Version(handout.id, handout.revision.number, job.locale, job.edition,
                      english_fingerprint(handout, renderer.clinic), translations, tool, job.clinic_phone)
    if cache is not None:
        cache[key] = version
    return version


def render_print(job: PrintJob, state: dict[str, Any] | None = None, keep: list[Any] | None = None) -> Rendered:
    """Render one handout (personalised or not), copyfitted within the page budget, in memory.

    With `keep`, the laid-out document is appended to it and no PDF is written (a packet's part).
    """
    state = _state if state is None else state
    try:
        project: Project = state["project"]
        handout = state["content"].get(job.handout_id)
        renderer: Renderer = state["renderers"][job.locale]
        if job.clinic_phone:
            renderer = replace(renderer, clinic=replace(renderer.clinic, phone=job.clinic_phone))
        version = version_of(renderer, handout, job, state["tool"], state.setdefault("versions", {}))
        writer: PdfWriter = state["writer"]
        budget = project.settings.limits.page_budget
        extra = {"patient": job.details} if job.details else None
        html, document = copyfit(renderer, writer, handout, job.edition == "large", budget, extra, job.start_tight)
        tight = 'class="tight' in html[:2000]  # the <html> element's class, set by the tight layout
        if job.edition == "standard" and len(document.pages) > budget:
            return Rendered(version, pages=len(document.pages), over_budget=True, tight=tight)
        if keep is not None:
            keep.append(document)
            return Rendered(version, b"", len(document.pages), tight=tight)
        return Rendered(version, writer.write(document), len(document.pages), tight=tight)
    except Exception as exc:  # noqa: BLE001 - reported without its message: it may quote a field
        return Rendered(None, error=sanitised(exc))


def render_packet(jobs: list[PrintJob], state: dict[str, Any] | None = None) -> tuple[list[Rendered], bytes]:
    """A packet's handouts laid out in one worker, then written as one tagged PDF (packets.py):
    each part's result (no PDF of its own) and the packet's PDF, or no PDF when a part failed."""
    state = _state if state is None else state
    documents: list[Any] = []
    results = [render_print(job, state, documents) for job in jobs]
    if any(r.error or r.over_budget for r in results):
        return results, b""
    try:
        writer: PdfWriter = state["writer"]
        blank = writer.layout(blank_page_html(state["project"], html_lang(jobs[0].locale)))
        return results, lay_out_packet(writer, documents, blank)[0]
    except Exception as exc:  # noqa: BLE001 - reported without its message, as render_print does
        return [Rendered(None, error=sanitised(exc))], b""


# ---------------------------------------------------------------- the pool, seen from the server


class Busy(Exception):
    """Every worker is busy and the queue is full, or a render took too long: try again shortly."""


@dataclass
class DeskPool:
    """N warm worker processes behind a bounded queue.

    `workers=0` renders in the calling process, one at a time (for tests and tiny setups).
    """

    setup: DeskSetup
    workers: int = 2
    queue: int = 16  # requests that may wait for a worker; one more is turned away with 503
    queue_wait: float = 10.0  # seconds a request may wait for a place before 503
    render_timeout: float = 60.0
    _executor: ProcessPoolExecutor | None = field(default=None, init=False)
    _slots: threading.BoundedSemaphore = field(init=False)
    _inline_lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _restart_lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _inline: dict[str, Any] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self._slots = threading.BoundedSemaphore(max(1, self.workers) + self.queue)

    def _initargs(self, barrier: Any) -> tuple:
        s = self.setup
        return (str(s.project.root), s.fontconfig, {loc: (p.mo, p.draft) for loc, p in s.ready.items()},
                s.stacks, s.tool, barrier, os.getpid() if barrier is not None else None)

    def start(self) -> None:
        """Start and warm every worker; returns when all of them are ready."""
        if self.workers == 0:
            self._inline = init_worker(*self._initargs(None))
            return
        # forkserver: workers never inherit the server's threads, even when one is replaced later.
        context = multiprocessing.get_context("forkserver")
        barrier = context.Barrier(self.workers)
        self._executor = ProcessPoolExecutor(self.workers, mp_context=context, initializer=init_worker,
                                             initargs=self._initargs(barrier))
        waits = [self._executor.submit(wait_ready, 300.0) for _ in range(self.workers)]
        pids = {f.result() for f in waits}
        if len(pids) != self.workers:
            raise HandoutError(f"front desk: expected {self.workers} render workers, {len(pids)} started")

    def stop(self) -> None:
        """End the workers now: a render in progress is abandoned (its desk gets no PDF)."""
        if self._executor is not None:
            processes = list((self._executor._processes or {}).values())  # noqa: SLF001
            self._executor.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                process.terminate()
            self._executor = None

    def _restart(self, broken: ProcessPoolExecutor) -> None:
        with self._restart_lock:
            if self._executor is broken:
                broken.shutdown(wait=False, cancel_futures=True)
                self.start()

    def render(self, jobs: list[PrintJob]) -> list[Rendered]:
        """Render the jobs in parallel; Busy when there is no room or time."""
        return self._run([(render_print, job) for job in jobs])

    def render_packet(self, jobs: list[PrintJob]) -> tuple[list[Rendered], bytes]:
        """A packet's handouts as one tagged PDF, laid out in one worker (`render_packet`)."""
        return self._run([(render_packet, jobs)])[0]

    def _run(self, calls: list[tuple[Any, Any]]) -> list[Any]:
        if not self._slots.acquire(timeout=self.queue_wait):
            raise Busy()
        try:
            if self._executor is None:
                with self._inline_lock:
                    return [function(argument, self._inline) for function, argument in calls]
            executor = self._executor
            try:
                futures: list[Future] = [executor.submit(function, argument) for function, argument in calls]
                return [f.result(timeout=self.render_timeout) for f in futures]
            except BrokenProcessPool:
                self._restart(executor)  # a worker died (out of memory, killed): a fresh, warm pool
                raise Busy() from None
            except FutureTimeout:
                raise Busy() from None
        finally:
            self._slots.release()

    def submit_background(self, job: PrintJob) -> Future | None:
        """A render nobody waits for (the archive copy); skipped when the pool is busy."""
        if not self._slots.acquire(blocking=False):
            return None
        executor = self._executor
        try:
            if executor is None:
                future: Future = Future()
                with self._inline_lock:
                    future.set_result(render_print(job, self._inline))
                self._slots.release()
                return future
            future = executor.submit(render_print, job)
        except Exception:  # noqa: BLE001 - a broken pool: the next desk print restarts it
            self._slots.release()
            return None
        future.add_done_callback(lambda _: self._slots.release())
        return future
