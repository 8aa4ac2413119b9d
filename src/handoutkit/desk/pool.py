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
import logging
import multiprocessing
import os
import queue
import threading
import time
import traceback
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
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
from handoutkit.outputs.editions import copyfit
from handoutkit.outputs.manifest import common_inputs
from handoutkit.outputs.packets import blank_page_html, lay_out_packet
from handoutkit.outputs.web import web_url
from handoutkit.render.fonts import use_fontconfig
from handoutkit.render.ink import ink_problem, require_poppler
from handoutkit.render.ready import open_library, with_fonts, with_locales
from handoutkit.render.renderer import PdfWriter, Renderer, make_renderer
from handoutkit.translation.catalogs import translations_from
from handoutkit.translation.fontplan import FontPlan
from handoutkit.translation.locales import html_lang
from handoutkit.translation.prepared import PreparedLocale

__all__ = ["PreparedLocale", "DeskSetup", "prepare_desk", "PrintJob", "Rendered", "Version", "DeskPool", "Busy",
           "WorkerFailed"]

logger = logging.getLogger("handoutkit.desk")


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
    setup = open_library(project)
    require_poppler()  # the warm-up renders are checked for ink
    # A locale whose records cannot be read (a damaged review record) is unavailable; the rest serve.
    setup = with_fonts(with_locales(setup, project.settings.locales, keep_going=True), progress, full_faces=True)
    unavailable = {locale: str(exc) for locale, exc in setup.unreadable.items()}
    unavailable.update({locale: _reason(p.problems) for locale, p in setup.prepared.items() if p.problems})
    unavailable = {locale: unavailable[locale] for locale in project.settings.locales if locale in unavailable}
    return DeskSetup(project, setup.content, setup.plan, setup.ready, unavailable, setup.stacks,
                     setup.fontconfig, common_inputs(project, setup.plan))


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
                stacks: dict[str, tuple[str, ...]], tool: str, server_pid: int | None = None) -> dict[str, Any]:
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
    state = dict(project=project, content=content, renderers=renderers, writer=PdfWriter(project), tool=tool)
    _state.clear()
    _state.update(state)  # a worker process has one state; an inline pool keeps its own
    # Warm up: the shortest handout in every locale, so no desk waits for a font or a template.
    # Each warm-up render is looked at as printed: it must have ink where its words are.
    shortest = min(content.handouts, key=lambda h: sum(len(t.value) for t in handout_texts(h)))
    for locale in renderers:
        result = render_print(PrintJob(shortest.id, locale, None), state)
        if result.error:
            raise HandoutError(f"the warm-up render in {locale} failed: {result.error}")
        problem = warm_up_problem(result.pdf, locale) if result.pdf else None
        if problem:
            raise HandoutError(f"{problem} (fonts: {', '.join(stacks[locale])}; see {fontconfig}). "
                               "The server does not start: fix the font, then start it again.")
    return state


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


@dataclass(frozen=True)
class PacketPrint:
    """A packet's handouts, laid out in one worker as one tagged document (render_packet)."""

    jobs: tuple[PrintJob, ...]


def render_packet(jobs: list[PrintJob] | tuple[PrintJob, ...], state: dict[str, Any] | None = None
                  ) -> tuple[list[Rendered], bytes]:
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


def run_job(job: "PrintJob | PacketPrint", state: dict[str, Any] | None = None) -> Any:
    """What a worker does with one job from its pipe: a handout, or a whole packet."""
    return render_packet(job.jobs, state) if isinstance(job, PacketPrint) else render_print(job, state)


# ---------------------------------------------------------------- the worker process


def worker_main(conn: Any, initargs: tuple) -> None:
    """A render worker: warm up, say so (or say why not), then render jobs from the pipe until it closes."""
    try:
        init_worker(*initargs)
    except Exception as exc:  # noqa: BLE001 - sent to the server, which refuses to say ready
        message = str(exc) if isinstance(exc, HandoutError) else sanitised(exc)
        conn.send(("failed", message))
        return
    conn.send(("ready", os.getpid()))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):  # the server is gone
            return
        conn.send(run_job(job))


def warm_up_problem(pdf: bytes, locale: str) -> str | None:
    """A warm-up render must have ink where its text is (a damaged font prints blank words)."""
    return ink_problem(pdf, f"the warm-up render in {locale}")


# ---------------------------------------------------------------- the pool, seen from the server


class Busy(Exception):
    """Every worker is busy and the queue is full, or a render took too long: try again shortly."""


class WorkerFailed(Busy):
    """The worker rendering this job crashed or was stuck and was replaced: try again shortly."""


@dataclass
class _Task:
    job: "PrintJob | PacketPrint"
    future: Future
    deadline: float | None  # time.monotonic() after which nobody waits for it (None: background)


class _Worker:
    """One render process and the server thread that feeds it, replaces it when it dies or hangs."""

    def __init__(self, pool: "DeskPool", index: int):
        self.pool, self.index = pool, index
        self.process: Any = None
        self.conn: Any = None
        self.thread: threading.Thread | None = None
        self.busy_since: float | None = None  # when the job it is rendering started
        self.retired: int | None = None  # the pid of the process being replaced

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def spawn(self) -> None:
        """Start a process and wait until it is warm; HandoutError with its reason if it cannot."""
        pool = self.pool
        parent, child = pool.context.Pipe()
        process = pool.context.Process(target=worker_main, args=(child, pool.initargs()), daemon=True,
                                       name=f"render-worker-{self.index}")
        process.start()
        child.close()
        try:
            ready = parent.poll(pool.start_timeout)
            message = parent.recv() if ready else ("failed", f"not warm after {pool.start_timeout:.0f} s")
        except (EOFError, OSError):
            message = ("failed", f"it ended while warming up (exit code {process.exitcode})")
        if message[0] != "ready":
            process.kill()
            process.join(5)
            parent.close()
            raise HandoutError(f"render worker could not start: {message[1]}")
        self.process, self.conn = process, parent

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.join(5)
            self.conn.close()
        self.process = self.conn = None

    def retire(self, why: str) -> None:
        """Log why this worker goes, and kill its process."""
        self.retired = self.pid
        logger.error("render worker %s %s; replacing it", self.retired, why)
        self.kill()

    def replace(self, why: str | None = None) -> None:
        """Kill this worker's process (unless retired already) and start a warm one (retried until the
        pool stops)."""
        if why is not None:
            self.retire(why)
        old = self.retired
        delay = 1.0
        while not self.pool.stopping.is_set():
            try:
                self.spawn()
                logger.warning("render worker %s replaced by %s", old, self.pid)
                return
            except HandoutError as exc:
                logger.error("%s; trying again in %.0f s", exc, delay)
                self.pool.stopping.wait(delay)
                delay = min(delay * 2, 60.0)

    def run(self) -> None:
        pool = self.pool
        while True:
            # A worker that died while idle (killed, out of memory) is replaced before it is given a job.
            if self.process is not None and not self.process.is_alive() and not pool.stopping.is_set():
                self.replace(f"died while idle (exit code {self.process.exitcode})")
            try:
                task = pool.tasks.get(timeout=0.5)
            except queue.Empty:
                continue
            if task is None:  # stop
                return
            if self.process is None or not self.process.is_alive():
                pool.tasks.put(task)  # another worker takes it; this one is replaced first
                if pool.stopping.is_set():
                    return
                self.replace("was not running")
                continue
            if not task.future.set_running_or_notify_cancel():
                continue  # its desk gave up waiting
            if task.deadline is not None and time.monotonic() > task.deadline:
                task.future.set_exception(Busy())
                continue
            self.busy_since = time.monotonic()
            conn = self.conn  # stop() may close it meanwhile: then poll or recv raise OSError
            try:
                conn.send(task.job)
                if conn.poll(pool.render_timeout):
                    task.future.set_result(conn.recv())
                else:
                    pool.failures += 1
                    self.retire(f"was stuck on a render for {pool.render_timeout:.0f} s: killed")
                    task.future.set_exception(WorkerFailed())  # its desk hears at once, not after the warm-up
                    self.replace()
            except (EOFError, OSError):
                pool.failures += 1
                if pool.stopping.is_set():
                    task.future.set_exception(WorkerFailed())
                    continue
                process = self.process
                if process is not None:
                    process.join(1)
                self.retire(f"crashed (exit code {process.exitcode if process is not None else '?'})")
                task.future.set_exception(WorkerFailed())
                self.replace()
            finally:
                self.busy_since = None


@dataclass
class DeskPool:
    """N warm worker processes behind a bounded queue.

    Each worker is fed by a thread of its own that knows what its process is
    rendering: a process that crashes, or does not answer within
    `render_timeout`, is killed and replaced by a warm one while the others go
    on printing. A desk waits at most `queue_wait` seconds in all (for a place,
    then for its render) before it gets Busy (503).

    `workers=0` renders in the calling process, one at a time (for tests and tiny setups).
    """

    setup: DeskSetup
    workers: int = 2
    queue: int = 16  # requests that may wait for a worker; one more is turned away with 503
    queue_wait: float = 9.0  # seconds a request may wait, for a place and its render, before 503 (desks: 10 s)
    render_timeout: float = 8.0  # a render (normally 0.1-0.5 s) taking longer is a stuck worker
    start_timeout: float = 300.0
    failures: int = field(default=0, init=False)  # crashed or stuck renders since start
    _slots: threading.BoundedSemaphore = field(init=False)
    _inline_lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _inline: dict[str, Any] | None = field(default=None, init=False)
    _handles: list[_Worker] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        self._slots = threading.BoundedSemaphore(max(1, self.workers) + self.queue)
        self.tasks: queue.SimpleQueue[_Task | None] = queue.SimpleQueue()
        self.stopping = threading.Event()
        # forkserver: a worker never inherits the server's threads, even when it is replaced later.
        self.context = multiprocessing.get_context("forkserver")

    def initargs(self) -> tuple:
        s = self.setup
        return (str(s.project.root), s.fontconfig, {loc: (p.mo, p.draft) for loc, p in s.ready.items()},
                s.stacks, s.tool, os.getpid())

    def start(self) -> None:
        """Start and warm every worker; returns when all of them are ready, or raises HandoutError
        with the first one's reason (a damaged font: the server must not say ready)."""
        if self.workers == 0:
            self._inline = init_worker(*self.initargs()[:5])  # no server to watch: it is this process
            return
        self._handles = [_Worker(self, index) for index in range(self.workers)]
        errors: list[HandoutError] = []

        def spawn(worker: _Worker) -> None:
            try:
                worker.spawn()
            except HandoutError as exc:
                errors.append(exc)

        starters = [threading.Thread(target=spawn, args=(w,)) for w in self._handles]
        for thread in starters:
            thread.start()
        for thread in starters:
            thread.join()
        if errors:
            for worker in self._handles:
                worker.kill()
            raise errors[0]
        for worker in self._handles:
            worker.thread = threading.Thread(target=worker.run, name=f"render-feed-{worker.index}", daemon=True)
            worker.thread.start()

    def pids(self) -> list[int]:
        return [w.pid for w in self._handles if w.pid is not None]

    def busy_seconds(self) -> list[float]:
        """For each worker, how long its current render has run (0 when idle)."""
        now = time.monotonic()
        started = [w.busy_since for w in self._handles]  # read once: a feeding thread may clear it meanwhile
        return [round(now - b, 1) if b is not None else 0.0 for b in started]

    def alive(self) -> int:
        """Workers that are up (a replaced one is down while it warms up)."""
        return sum(1 for w in self._handles if w.process is not None and w.process.is_alive()) \
            if self._handles else int(self._inline is not None)

    def stop(self) -> None:
        """End the workers now: a render in progress is abandoned (its desk gets no PDF)."""
        self.stopping.set()
        for _ in self._handles:
            self.tasks.put(None)
        for worker in self._handles:
            worker.kill()

    def _submit(self, job: PrintJob, deadline: float | None) -> Future:
        future: Future = Future()
        self.tasks.put(_Task(job, future, deadline))
        return future

    def render(self, jobs: list[PrintJob], arrived: float | None = None) -> list[Rendered]:
        """Render the jobs in parallel; Busy when there is no room or time.

        `arrived` (time.monotonic()) is when the desk's request arrived: the wait is counted from then.
        """
        return self._run(list(jobs), arrived)

    def render_packet(self, jobs: list[PrintJob], arrived: float | None = None) -> tuple[list[Rendered], bytes]:
        """A packet's handouts as one tagged PDF, laid out in one worker (`render_packet`)."""
        return self._run([PacketPrint(tuple(jobs))], arrived)[0]

    def _run(self, jobs: list[Any], arrived: float | None) -> list[Any]:
        deadline = (arrived if arrived is not None else time.monotonic()) + self.queue_wait
        if not self._slots.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise Busy()
        try:
            if not self._handles:
                with self._inline_lock:
                    return [run_job(job, self._inline) for job in jobs]
            if self.stopping.is_set():
                raise Busy()
            futures = [self._submit(job, deadline) for job in jobs]
            try:
                return [f.result(timeout=max(0.0, deadline - time.monotonic())) for f in futures]
            except FutureTimeout:
                for future in futures:
                    future.cancel()  # those not started yet are skipped by the workers
                raise Busy() from None
        finally:
            self._slots.release()

    def submit_background(self, job: PrintJob) -> Future | None:
        """A render nobody waits for (the archive copy); skipped when the pool is busy."""
        if not self._slots.acquire(blocking=False):
            return None
        if not self._handles:
            future: Future = Future()
            try:
                with self._inline_lock:
                    future.set_result(render_print(job, self._inline))
            finally:
                self._slots.release()
            return future
        if self.stopping.is_set():
            self._slots.release()
            return None
        future = self._submit(job, None)
        future.add_done_callback(lambda _: self._slots.release())
        return future
