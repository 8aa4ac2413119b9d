"""Front desk server: the catalog plus personalised printing (`handouts serve`).

A Flask app served by waitress (a production WSGI server: see docs/operations.md for
why). Requests are handled by threads that do little: validate the form,
hand the render to a pool of warm worker processes (desk_pool.py), record the
print (printlog.py). The pool's queue is bounded: past it a desk gets "busy,
try again" (503 with Retry-After) instead of an unbounded wait.

Patient details exist only in the request, the render job and the PDF sent
back: never on disk, in the print log, in a log line or in a traceback (an
unexpected error is logged as its exception type and source line only).

Every POST must carry a form token signed with the servers' shared secret
(desk.auth.FormTokens) and come from this server's own pages (Origin /
Sec-Fetch-Site); every request must name an allowed host, and on a LAN bind
come from a signed-in desk.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import logging
import re
import secrets
import signal
import sys
import threading
import time
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from babel.dates import format_time
from flask import Flask, Response, abort, g, request, send_from_directory
from markupsafe import escape
from werkzeug.exceptions import HTTPException

from handoutkit.content.handouts import HANDOUT_ID
from handoutkit.content.settings import Project
from handoutkit.desk.auth import (
    SECRET_FILE,
    DeskAuth,
    FormTokens,
    load_auth,
    load_secret,
)
from handoutkit.desk.infobutton import Language, infobutton
from handoutkit.desk.lan import ARRIVED, CONNECTION_LIMIT, IDLE_TIMEOUT, drain, harden
from handoutkit.desk.pool import (
    Busy,
    DeskPool,
    DeskSetup,
    PrintJob,
    Rendered,
    WorkerFailed,
    prepare_desk,
    sanitised,
)
from handoutkit.desk.printlog import LogRow, PrintLog, now
from handoutkit.errors import HandoutError
from handoutkit.outputs.catalog_page import catalog_entries, render_catalog_page
from handoutkit.outputs.language_sheet import LANGUAGE_ASSISTANCE
from handoutkit.outputs.packets import Packet, load_packets, packet_cards
from handoutkit.outputs.targets import published_file
from handoutkit.outputs.web import WEB_INDEX
from handoutkit.translation.fontplan import stack_codepoints, uncovered
from handoutkit.translation.locales import format_long_date
from handoutkit.translation.prepared import check_inputs

logger = logging.getLogger("handoutkit.desk")

LIMITS = {"name": 100, "phone": 30, "instructions": 1000}
# ASCII digits only: `\d` would also take Arabic-Indic digits, which dates and times must not carry.
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
TIME = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])(:[0-5][0-9])?")
# A procedure date this far back or ahead is a typing mistake.
DATE_WINDOW = (dt.timedelta(days=366), dt.timedelta(days=3 * 366))
MARKUP = set("<>")
# Characters that change how text reads without being seen: direction overrides and
# isolates, and invisible formatting. ZWNJ and ZWJ are kept: Persian and the Indic
# scripts need them to spell words.
BIDI_CONTROLS = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
ALLOWED_FORMAT = set("\u200c\u200d")
INVISIBLE = set("\u115f\u1160\u3164\uffa0\u2800\u180e")  # fillers that print as nothing
MAX_COMBINING_RUN = 4  # Zalgo text stacks dozens; real scripts stack a few
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
RETRY_AFTER_SECONDS = 3
DRAIN_SECONDS = 30  # at SIGTERM, how long the prints in progress may take to finish


class FormError(Exception):
    """A field the front desk must correct: shown on the form with a 4xx status."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class PrintRequest:
    handout_ids: tuple[str, ...]  # one handout, or the handouts of a packet
    packet: str | None
    locale: str
    patient_name: str
    procedure_date: dt.date | None
    arrival_time: dt.time | None
    surgeon: str
    clinic_phone: str
    instructions: str

    @property
    def handout_id(self) -> str:
        return self.handout_ids[0]


# ---------------------------------------------------------------- validation


def text_problem(value: str) -> str | None:
    """Why a typed text cannot be printed as it reads on screen, or None."""
    run = 0
    for char in value:
        category = unicodedata.category(char)
        if char in MARKUP:
            return "contains characters that are not allowed (such as < or >). Type plain text only."
        if char in BIDI_CONTROLS:
            return (f"contains an invisible direction control (U+{ord(char):04X}) that would change the order "
                    "the text prints in. Type it again without pasting.")
        if (category in ("Cf", "Co", "Cn", "Cs", "Zl", "Zp") and char not in ALLOWED_FORMAT) or char in INVISIBLE \
                or (category == "Cc" and char not in "\n\r\t"):
            return (f"contains an invisible or unusual character (U+{ord(char):04X}). Type it again "
                    "without pasting.")
        run = run + 1 if category in ("Mn", "Me") else 0
        if run > MAX_COMBINING_RUN:
            return "contains a long run of combining marks (accents stacked on one letter). Type it again."
    return None


def _text_field(form: Any, name: str, label: str, limit: int) -> str:
    value = unicodedata.normalize("NFC", (form.get(name) or "").strip())
    if len(value) > limit:
        raise FormError(f"{label} is too long: {len(value)} characters, at most {limit}.")
    problem = text_problem(value)
    if problem:
        raise FormError(f"{label} {problem}")
    return value


def parse_date(text: str, today: dt.date) -> dt.date | None:
    if not text:
        return None
    date = None
    if DATE.fullmatch(text):
        try:
            date = dt.date.fromisoformat(text)
        except ValueError:
            pass
    if date is None:
        raise FormError(f"Procedure date {text[:20]!r} is not a real date. Use YYYY-MM-DD with the digits 0-9, "
                        "for example 2027-03-14.")
    earliest, latest = today - DATE_WINDOW[0], today + DATE_WINDOW[1]
    if not earliest <= date <= latest:
        raise FormError(f"Procedure date {text} is outside {earliest.isoformat()} to {latest.isoformat()}. "
                        "Check the year.")
    return date


def parse_time(text: str) -> dt.time | None:
    if not text:
        return None
    match = TIME.fullmatch(text)
    if not match:
        raise FormError(f"Arrival time {text[:20]!r} is not a time. Use HH:MM with the digits 0-9, for example 07:30.")
    return dt.time(int(match[1]), int(match[2]))


def parse_phone(form: Any, choices: tuple[str, ...] = ()) -> str:
    """The clinic number to print instead of clinic.yaml's `phone`: one of its `desk_phones`, or ""."""
    phone = (form.get("clinic_phone") or "").strip()
    if not phone:
        return ""
    if phone not in choices:
        # Never a typed number: a patient's own number would replace the clinic's on the handout.
        raise FormError("Clinic phone: pick one of the clinic's numbers from the list "
                        "(handouts/clinic.yaml, desk_phones).")
    return phone


def parse_print_request(form: Any, handout_ids: set[str], locales: set[str],
                        packets: dict[str, Packet] | None = None, today: dt.date | None = None,
                        phones: tuple[str, ...] = ()) -> PrintRequest:
    """Validate the form fields; raise FormError with a message staff can act on."""
    choice = (form.get("handout") or "").strip()
    packet = None
    if choice.startswith("packet:") and choice[len("packet:"):] in (packets or {}):
        packet = (packets or {})[choice[len("packet:"):]]
        ids = packet.handouts
    elif HANDOUT_ID.match(choice) and choice in handout_ids:
        ids = (choice,)
    else:
        raise FormError("Unknown handout. Pick one from the list.", 404)
    locale = (form.get("locale") or "").strip()
    if locale not in locales:
        raise FormError("That language is not available for printing. Pick one from the list.", 404)
    today = today or dt.date.today()
    return PrintRequest(
        handout_ids=ids,
        packet=packet.id if packet else None,
        locale=locale,
        patient_name=_text_field(form, "patient_name", "Patient name", LIMITS["name"]),
        procedure_date=parse_date((form.get("procedure_date") or "").strip(), today),
        arrival_time=parse_time((form.get("arrival_time") or "").strip()),
        surgeon=_text_field(form, "surgeon", "Surgeon", LIMITS["name"]),
        clinic_phone=parse_phone(form, phones),
        instructions=_text_field(form, "instructions", "Instructions", LIMITS["instructions"]),
    )


def patient_details(req: PrintRequest) -> dict[str, str]:
    """The details as printed: dates and times formatted for the handout's language by Babel."""
    return {
        "name": req.patient_name,
        "procedure_date": format_long_date(req.procedure_date, req.locale) if req.procedure_date else "",
        "arrival_time": format_time(req.arrival_time, format="short", locale=req.locale)
        if req.arrival_time else "",
        "surgeon": req.surgeon,
        "instructions": req.instructions,
    }


# The fields of the details box, as the form labels them, and their keys in patient_details().
DETAIL_FIELDS = (("instructions", "instructions"), ("surgeon", "surgeon"), ("name", "patient name"),
                 ("procedure_date", "procedure date"), ("arrival_time", "arrival time"))


# What overflowing_field answers when a one-character detail alone does not fit.
NO_ROOM = "the details box"


def no_room(job: PrintJob) -> str:
    """NO_ROOM, logged: a handout that cannot take a details box is a fault of the library, not of the form."""
    logger.error("no room for a details box: %s in %s runs over its page budget with a one-character detail",
                 job.handout_id, job.locale)
    return NO_ROOM


def too_long(req: PrintRequest, pages: int, budget: int, field: str | None = None) -> FormError:
    """The over-budget message, naming the field that overflows (`field`, found by `overflowing_field`):
    a detail whose removal or shortening makes the handout fit, NO_ROOM when even a one-character
    detail does not fit (the handout leaves no room for the box), None when no single field does it."""
    if field == NO_ROOM:
        return FormError(f"This handout in this language has no room for the patient's details within its "
                         f"{budget} pages, however short they are. Print the standard PDF and write the details "
                         "by hand, and tell the practice manager (the server's log names the handout).", 422)
    if field is not None:
        length = {"instructions": len(req.instructions), "surgeon": len(req.surgeon),
                  "patient name": len(req.patient_name)}.get(field)
        now_text = f" (now {length} character{'s' if length != 1 else ''})" if length else ""
        return FormError(f"With these details the handout runs to {pages} pages; the limit is {budget}. "
                         f"Shorten the {field}{now_text}, or leave it out.", 422)
    return FormError(f"With the patient's details this handout runs to {pages} pages in this language; the limit "
                     f"is {budget}, and no single field makes the difference. Print the standard PDF and write "
                     "the details by hand.", 422)


# ---------------------------------------------------------------- the desk


class FrontDesk:
    """What the server keeps: the checked setup, the render pool, the print log."""

    def __init__(self, project: Project, state_dir: Path, log_path: Path | None = None, workers: int = 0,
                 queue: int = 16, log_url: str | None = None, archive_dir: Path | None = None):
        self.project = project
        self.inputs = self.current_inputs()  # taken before the checks: an edit during them reloads
        self._use(prepare_desk(project))
        self.pool = DeskPool(self.setup, workers=workers, queue=queue)
        self.log = PrintLog(state_dir, log_path, log_url, archive_dir)
        self.to_archive: dict[str, PrintJob] = {}  # version key -> the job that renders it unpersonalised
        self.archiving: set[str] = set()
        self._archive_lock = threading.Lock()

    def _use(self, setup: DeskSetup) -> None:
        """What the form shows and what prints, both from one prepared setup."""
        self.setup = setup
        self.packets = {p.id: p for p in load_packets(self.project, setup.content)}
        self.packet_cards = packet_cards(self.project, setup.content)
        loaded = {loc: (p.translations, p.status) for loc, p in setup.ready.items()}
        self.languages, self.entries = catalog_entries(self.project, setup.content, loaded)
        self.handout_ids = {h.id for h in setup.content.handouts}
        self.covered: dict[str, frozenset[int]] = {}  # locale -> the characters its fonts can print
        # (handout, locale, phone) -> whether the handout without details needed the tight layout
        self.tight: dict[tuple[str, str, str], bool] = {}
        # ... and whether a personalised print of it did (then later ones lay it out once, tight)
        self.tight_personal: dict[tuple[str, str, str], bool] = {}

    def current_inputs(self) -> dict[str, str]:
        """Each published locale's check inputs (its PO bytes, the template, records, settings, code)."""
        return {loc: check_inputs(self.project, loc) for loc in self.project.settings.locales}

    def reload_if_changed(self) -> bool:
        """Prepare again when a locale's inputs changed (a translator saved a PO file).

        New workers are warmed with the new setup before the switch, so the form and the
        printed PDF change together; a file that fails its checks makes its language
        unavailable in both. The old workers finish what they were rendering.
        """
        inputs = self.current_inputs()
        if inputs == self.inputs:
            return False
        setup = prepare_desk(self.project)
        pool = DeskPool(setup, workers=self.pool.workers, queue=self.pool.queue)
        pool.start()
        with self._archive_lock:
            old, self.pool = self.pool, pool
            self._use(setup)
            self.inputs = inputs
        threading.Timer(60.0, old.stop).start()
        logger.info("locales prepared again after a change; unavailable now: %s",
                    ", ".join(sorted(setup.unavailable)) or "none")
        return True

    def start(self) -> None:
        self.pool.start()

    def check_fonts(self, req: PrintRequest) -> None:
        if req.locale not in self.covered:
            self.covered[req.locale] = stack_codepoints(self.setup.plan, req.locale)
        covered = self.covered[req.locale]
        for label, value in (("Patient name", req.patient_name), ("Surgeon", req.surgeon),
                             ("Instructions", req.instructions)):
            missing = uncovered(value, covered)
            if missing:
                raise FormError(f"{label} has characters the fonts for this language cannot print: "
                                f"{' '.join(missing)}. Type it in the handout's script, or leave it blank.")

    def print(self, req: PrintRequest, desk: str, arrived: float | None = None) -> tuple[bytes, list[str]]:
        """The PDF and any warnings for the desk. Raises FormError or Busy."""
        self.check_fonts(req)
        details = patient_details(req)
        personal = any(details.values())
        # No details, no box: an empty form prints the handout as published.
        jobs = [PrintJob(h, req.locale, details if personal else None, req.clinic_phone,
                         start_tight=self.tight.get((h, req.locale, req.clinic_phone), False)
                         or (personal and self.tight_personal.get((h, req.locale, req.clinic_phone), False)))
                for h in req.handout_ids]
        if req.packet is None:
            results, packet_pdf = self.pool.render(jobs, arrived), b""
        else:
            results, packet_pdf = self.pool.render_packet(jobs, arrived)
        if personal:  # a handout that fits bare may need the tight layout once a patient's box is added
            for job, result in zip(jobs, results):
                if result.tight:
                    self.tight_personal[(job.handout_id, req.locale, req.clinic_phone)] = True
        for result in results:
            if result.error:
                # The worker's description names the exception type and line only.
                logger.error("render failed: %s", result.error)
                # A fault of the server, not of the form: 500, so monitoring that counts 5xx sees it.
                raise FormError("The handout could not be printed because of a fault in the print server. "
                                "Nothing was printed; the fault is in the server's log.", 500)
        for job, result in zip(jobs, results):
            if result.over_budget:
                field = self.overflowing_field(job, arrived)
                raise too_long(req, result.pages, self.project.settings.limits.page_budget, field)
        pdf = results[0].pdf if req.packet is None else packet_pdf
        warnings = []
        if not self.record(req, desk, results):
            warnings.append("The print log could not be written just now. This print is kept and will be "
                            "recorded automatically; tell the practice manager if this warning stays.")
        self.archive_later(req, results)
        return pdf, warnings

    def overflowing_field(self, job: PrintJob, arrived: float | None) -> str | None:
        """The field that overflows, tried longest first: the first whose removal brings the handout
        within its budget (the only field filled in is cut to its first character instead, since a
        box needs one detail). NO_ROOM when the handout has no room for even that one character, so
        the refusal never blames a field the desk cannot shorten further; None when no field alone does it."""
        details = job.details or {}
        filled = [key for key, _ in DETAIL_FIELDS if details.get(key)]
        for key, label in sorted(DETAIL_FIELDS, key=lambda f: -len(details.get(f[0], ""))):
            if key not in filled:
                continue
            shortest = "" if len(filled) > 1 else details[key][:1]
            if shortest == details[key]:  # one character already
                return no_room(job)
            try:
                result = self.pool.render([replace(job, details={**details, key: shortest}, start_tight=True)],
                                          arrived)[0]
            except Busy:
                return None
            if not result.error and not result.over_budget:
                return label
            if len(filled) == 1:
                return no_room(job)
        return None

    def record(self, req: PrintRequest, desk: str, results: list[Rendered]) -> bool:
        when = now()
        rows = [LogRow(when, desk, req.packet, r.version.handout, r.version.revision, r.version.edition,
                       r.version.locale, r.version.english_sha256, r.version.translation_sha256,
                       req.clinic_phone or None, r.version.key) for r in results]
        return self.log.record(rows)

    def archive_later(self, req: PrintRequest, results: list[Rendered]) -> None:
        """Each version not archived yet is rendered unpersonalised, in the background, once.

        That render also tells whether the handout needs the tight layout without details
        (so with them too): later prints of it then lay it out once instead of twice.
        """
        with self._archive_lock:
            for result in results:
                key = result.version.key
                learned = (result.version.handout, req.locale, req.clinic_phone) in self.tight
                if key not in self.archiving and (not learned or not self.log.archived(key)):
                    self.to_archive[key] = PrintJob(result.version.handout, req.locale, None, req.clinic_phone)
        self.archive_pending()

    def archive_pending(self) -> None:
        with self._archive_lock:
            waiting = [(k, j) for k, j in self.to_archive.items() if k not in self.archiving]
        for key, job in waiting:
            future = self.pool.submit_background(job)
            if future is None:
                return  # busy: the next print or the retry timer tries again
            with self._archive_lock:
                self.archiving.add(key)
            future.add_done_callback(lambda f, key=key: self._archived(key, f))

    def _archived(self, key: str, future: Any) -> None:
        try:
            result: Rendered = future.result()
            ok = not result.error and result.version is not None and result.version.key == key
            if ok:
                version = result.version
                self.tight[(version.handout, version.locale, version.clinic_phone)] = result.tight
                ok = self.log.archived(key) or self.log.archive(key, result.pdf)
        except Exception as exc:  # noqa: BLE001 - a broken pool: retried later
            logger.error("archive render failed: %s", sanitised(exc))
            ok = False
        with self._archive_lock:
            self.archiving.discard(key)
            if ok:
                self.to_archive.pop(key, None)

    def retry(self) -> None:
        """Called every few seconds: pending log rows and archive copies."""
        try:
            self.log.flush()
            self.archive_pending()
        except Exception as exc:  # noqa: BLE001 - the timer must keep running
            logger.error("retry failed: %s", sanitised(exc))

    def status(self) -> dict:
        alive = self.pool.alive()
        return {"ready": alive > 0, "workers": max(self.pool.workers, 1), "workers_up": alive,
                "worker_pids": self.pool.pids(), "busy_seconds": self.pool.busy_seconds(),
                "render_failures": self.pool.failures, "log_pending": len(self.log.pending),
                "log_error": self.log.last_error, "archive_pending": len(self.to_archive)}


# ---------------------------------------------------------------- the web app


def valid_utf8_form(body: bytes) -> bool:
    """Whether every name and value of a URL-encoded form decodes as UTF-8."""
    try:
        parse_qsl(body.decode("ascii"), keep_blank_values=True, encoding="utf-8", errors="strict")
    except (UnicodeDecodeError, ValueError):
        return False
    return True


def host_name(host: str) -> str:
    """`example.org:8000` -> `example.org`; `[::1]:8000` -> `::1`."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def csp(nonce: str) -> str:
    """The Content-Security-Policy: the page's own <style> and <script> (by nonce), nothing inline else."""
    return (f"default-src 'self'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
            "frame-src 'self' blob:; object-src 'self' blob:; connect-src 'self' blob:; img-src 'self' data:; "
            "form-action 'self'; frame-ancestors 'self'; base-uri 'none'")


def simple_page(title: str, message: str, status: int, headers: dict | None = None) -> Response:
    """A page that cannot fail: no template, no data but a fixed message."""
    nonce = getattr(g, "csp_nonce", "") if g else ""
    html = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f'<style nonce="{nonce}">body{{font:18px/1.4 sans-serif;margin:2rem}}</style></head>'
            f'<body><h1>{escape(title)}</h1><p>{escape(message)}</p>'
            '<p><a href="/">Back to the handouts</a></p></body></html>')
    return Response(html, status=status, mimetype="text/html", headers=headers or {})


def create_app(project: Project, log_path: Path | None = None, *, state_dir: Path | None = None,
               workers: int = 0, queue: int = 16, allowed_hosts: tuple[str, ...] = (),
               desk: FrontDesk | None = None, auth: DeskAuth | None = None,
               secret_file: Path | None = None) -> Flask:
    """The front-desk app. `workers=0` renders in the request thread (tests); `serve` uses a pool.

    With `auth` that requires it, every request (the page, PDFs, /status) needs a signed-in desk."""
    if desk is None:
        desk = FrontDesk(project, state_dir or default_state_dir(project), log_path, workers, queue)
        desk.start()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024  # a form, never a file
    app.config["desk"] = desk
    hosts = {h.lower() for h in (*LOOPBACK_NAMES, *allowed_hosts)}
    # Signed with the shared secret: valid on every server that has it, and after a restart.
    tokens = FormTokens(load_secret(secret_file or (state_dir or default_state_dir(project)) / SECRET_FILE))

    def page(error: str = "", values: dict | None = None, status: int = 200) -> Response:
        fields = {"handout": "", "locale": project.settings.source_locale, "patient_name": "",
                  "procedure_date": "", "arrival_time": "", "surgeon": "", "clinic_phone": "", "instructions": ""}
        fields.update({k: v for k, v in (values or {}).items() if k in fields and isinstance(v, str)})
        try:
            html = render_catalog_page(project, desk.languages, desk.entries, form=True, error=error,
                                       language_assistance=LANGUAGE_ASSISTANCE.built_url(project),
                                       values=fields, limits=LIMITS, csrf_token=tokens.new(),
                                       unavailable=desk.setup.unavailable, packets=list(desk.packets.values()),
                                       packet_cards=desk.packet_cards,
                                       status=desk.status(), csp_nonce=g.csp_nonce)
        except Exception as exc:  # noqa: BLE001 - the error page itself failed: a fixed page, no data
            logger.error("page failed: %s", sanitised(exc))
            return simple_page("Patient handouts", error or "The page could not be shown.", status or 500)
        return Response(html, status=status, mimetype="text/html")

    @app.before_request
    def guard() -> Response | None:
        g.csp_nonce = secrets.token_urlsafe(16)  # a new one for every response
        if host_name(request.host) not in hosts:
            return simple_page("Unknown host", "This server does not answer to that host name. "
                               "Use the address your practice gave you.", 400)
        g.desk_user = None
        if auth is not None and auth.required:
            sent = request.authorization
            pair = (sent.username or "", sent.password or "") if sent and sent.type == "basic" else None
            g.desk_user = auth.user(request.environ, pair)
            if g.desk_user is None:
                return simple_page("Sign in", "This print server asks each desk to sign in with its desk "
                                   "account. Ask the practice manager for it.", 401,
                                   {"WWW-Authenticate": 'Basic realm="Patient handouts", charset="UTF-8"'})
        if request.method == "POST":
            origin = request.headers.get("Origin")
            site = request.headers.get("Sec-Fetch-Site")
            if (origin and origin != "null" and urlsplit(origin).netloc.lower() != request.host.lower()) \
                    or origin == "null" or (site and site not in ("same-origin", "none")):
                return simple_page("Refused", "A print must be started from this server's own page.", 403)
            if request.mimetype == "application/x-www-form-urlencoded" and not valid_utf8_form(
                    request.get_data(cache=True)):
                # Werkzeug keeps an undecodable %FF%FE as the literal text "%FF%FE", which would print.
                return page("The form arrived with characters that are not valid text (broken UTF-8). Nothing "
                            "was printed: type the details again.", status=400)
            if not tokens.valid(request.form.get("csrf", "")):
                return page("This page was out of date (open for over a day, or from another server). Nothing was printed: "
                            "check the details and print again.", request.form.to_dict(), 403)
        return None

    @app.after_request
    def headers(response: Response) -> Response:
        if not request.path.endswith(".pdf") or response.status_code >= 400:
            response.headers["Cache-Control"] = "no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
        # "no-referrer" would make Chromium send `Origin: null` with the form, which the CSRF check refuses.
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
        response.headers.setdefault("Content-Security-Policy", csp(getattr(g, "csp_nonce", "") or "none"))
        return response

    @app.get("/")
    def index() -> Response:
        return page()

    @app.get("/status")
    def status() -> Response:
        return app.json.response(desk.status())

    def withdrawn(locale: str) -> Response | None:
        """A language that no longer passes its checks serves nothing, even a file left on disk."""
        reason = desk.setup.unavailable.get(locale)
        if reason is None:
            return None
        return simple_page("Not available", f"This language cannot be printed now: {reason}", 404)

    @app.get("/web/")
    def web_index() -> Response:
        return published(WEB_INDEX.url)

    @app.get("/<path:url>")
    def published(url: str) -> Response:
        """What the build publishes (editions, packets, the language sheet, the web edition), as the
        outputs name it; the web edition's pages are here so the Infobutton's links work from this server."""
        path = published_file(project, url)
        if path is None:
            abort(404)
        parts = url.split("/")
        if len(parts) == 3 and (refusal := withdrawn(parts[1])):  # <folder>/<locale>/<file>
            return refusal
        if not path.is_file():
            abort(404)
        return send_from_directory(path.parent, path.name)

    @app.get("/infobutton")
    def infobutton_request() -> Response:
        """HL7 Infobutton (URL-based, JSON): the handouts of a code in the patient's language."""
        languages = {loc: Language(p.translations, p.draft) for loc, p in desk.setup.ready.items()}
        status, body = infobutton(project, request.args.to_dict(flat=False), content=desk.setup.content,
                                  languages=languages, server_url=request.host_url)
        return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json")

    @app.post("/print")
    def print_pdf() -> Response:
        try:
            req = parse_print_request(request.form, desk.handout_ids, set(desk.setup.ready), desk.packets,
                                      phones=tuple(p.phone for p in project.settings.clinic.desk_phones))
            pdf, warnings = desk.print(req, g.desk_user or request.remote_addr or "unknown",
                                       request.environ.get(ARRIVED))
        except FormError as exc:
            return page(str(exc), request.form.to_dict(), exc.status)
        except Busy as exc:
            # Logged without the form: which handout and language is enough to see a pattern.
            logger.warning("print refused with 503 (%s): %s in %s", "a render worker failed and was replaced"
                           if isinstance(exc, WorkerFailed) else "every worker busy past the wait bound",
                           req.packet or req.handout_id, req.locale)
            return simple_page("Busy, try again", "Every printer worker is busy. Nothing was printed: try again "
                               f"in {RETRY_AFTER_SECONDS} seconds.", 503,
                               {"Retry-After": str(RETRY_AFTER_SECONDS)})
        name = req.packet or req.handout_id
        headers = {"Content-Disposition": f'inline; filename="{name}-{req.locale}.pdf"', "Cache-Control": "no-store"}
        if warnings:
            headers["X-Handouts-Warning"] = " ".join(warnings)
        return Response(pdf, mimetype="application/pdf", headers=headers)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        if exc.code == 413:
            return page("The form was too large.", status=413)
        return simple_page(exc.name, exc.description or exc.name, exc.code or 400)

    @app.errorhandler(Exception)
    def internal_error(exc: Exception) -> Response:
        # Type and line only: the message or the values could quote what the desk typed.
        logger.error("internal error on %s %s: %s", request.method, request.path, sanitised(exc))
        return simple_page("Something went wrong", "Nothing was printed. The fault is in the server's log.", 500)

    return app


# ---------------------------------------------------------------- running it


def default_state_dir(project: Project) -> Path:
    return project.root / "var"


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(project: Project, host: str = "127.0.0.1", port: int = 8000, workers: int = 2, queue: int = 16,
          allowed_hosts: tuple[str, ...] = (), state_dir: Path | None = None, log_path: Path | None = None,
          trusted_proxy: str | None = None, retry_seconds: float = 5.0, accounts: Path | None = None,
          auth_header: str | None = None, keep_days: int | None = None, secret_file: Path | None = None,
          log_url: str | None = None, archive_dir: Path | None = None) -> None:
    """Run the front desk with waitress and a pool of warm render workers until SIGTERM or Ctrl+C."""
    import waitress

    if not is_loopback(host) and not allowed_hosts:
        raise HandoutError(f"--host {host} is reachable from other machines: name the host name the desks use "
                           "with --allowed-host (for example --allowed-host handouts.clinic.lan)")
    auth = load_auth(state_dir or default_state_dir(project), accounts, auth_header, trusted_proxy,
                     is_loopback(host), host)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # its depth warnings say nothing we don't
    started = dt.datetime.now()
    print("front desk: checking locales and warming up the render workers...", file=sys.stderr, flush=True)
    desk = FrontDesk(project, state_dir or default_state_dir(project), log_path, workers, queue, log_url,
                     archive_dir)
    desk.start()
    app = create_app(project, allowed_hosts=allowed_hosts, desk=desk, auth=auth,
                     secret_file=secret_file or (state_dir or default_state_dir(project)) / SECRET_FILE)
    stop = threading.Event()

    def forget() -> None:
        if keep_days is not None:
            try:
                desk.log.forget_before(dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=keep_days))
            except desk.log.store.errors as exc:
                logger.error("retention: could not delete old rows and archives (%s)", sanitised(exc))

    forget()
    forgotten = time.monotonic()

    def retry_loop() -> None:
        nonlocal forgotten
        while not stop.wait(retry_seconds):
            desk.retry()
            if time.monotonic() - forgotten > 24 * 3600:
                forget()
                forgotten = time.monotonic()
            try:
                desk.reload_if_changed()
            except Exception as exc:  # noqa: BLE001 - a bad edit must not stop the server
                logger.error("locales not prepared again: %s", sanitised(exc))

    threading.Thread(target=retry_loop, name="print-log-retry", daemon=True).start()
    for locale, reason in desk.setup.unavailable.items():
        print(f"front desk: {locale} is not printable: {reason}", file=sys.stderr)
    server = waitress.create_server(
        app, host=host, port=port,
        threads=workers + queue + 8,  # a waiting desk holds a thread; its wait counts from its arrival
        channel_timeout=int(IDLE_TIMEOUT), cleanup_interval=1,  # idle connections, checked every second
        connection_limit=CONNECTION_LIMIT, backlog=1024, asyncore_use_poll=True,  # select() stops at 1024
        max_request_body_size=64 * 1024, max_request_header_size=32 * 1024,
        ident="handouts", expose_tracebacks=False,
        **({"trusted_proxy": trusted_proxy, "trusted_proxy_count": 1,
            "trusted_proxy_headers": "x-forwarded-for x-forwarded-host x-forwarded-proto"} if trusted_proxy else {}))
    harden(server)  # a request must arrive within READ_TIMEOUT; slow senders make room for desks
    shown = f"[{host}]" if ":" in host else host
    seconds = (dt.datetime.now() - started).total_seconds()
    # Said once the socket listens and every worker is warm: a desk can print at once.
    print(f"front desk: ready on http://{shown}:{server.effective_port}/ ({workers} render workers, warmed up in "
          f"{seconds:.1f} s; print log {desk.log.where}; Ctrl+C to stop)", file=sys.stderr, flush=True)
    # systemd stops a service with SIGTERM, a person with Ctrl+C: both stop taking new connections and
    # let the prints in progress finish and reach their desks. A second Ctrl+C stops at once.
    stopping = threading.Event()

    def request_stop(signum: int, frame: Any) -> None:
        if stopping.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        while not stopping.is_set():
            server.asyncore.loop(timeout=0.5, map=server._map, use_poll=True, count=1)  # noqa: SLF001
        print("front desk: stopping; finishing the prints in progress...", file=sys.stderr, flush=True)
        left = drain(server, DRAIN_SECONDS)
        if left:
            logger.error("stopped with %d request(s) unanswered after %d s", left, DRAIN_SECONDS)
    finally:
        stop.set()
        desk.log.flush()
        if desk.log.pending:
            where = (f"kept in {desk.log.spool}, written at the next start" if desk.log.spool.exists()
                     else "NOT SAVED: the disk refused the spool file too")
            logger.error("print log %s: %d row(s) could not be written at shutdown (%s); %s",
                         desk.log.where, len(desk.log.pending), desk.log.last_error, where)
        desk.pool.stop()
        print("front desk: stopped", file=sys.stderr, flush=True)
