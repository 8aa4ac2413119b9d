"""Front desk server: the catalog plus personalised printing (`handouts serve`).

A Flask app bound to 127.0.0.1. `POST /print` renders the chosen handout in
the chosen language with the patient's details on the first page, in
memory: patient details are never written to disk or to a log. The print
log (SQLite) keeps only the handout id, its revision, the locale and the
time, so the practice can show which version a patient received.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from babel.dates import format_time
from flask import Flask, Response, abort, request, send_from_directory

from .prepared import PreparedLocale, prepare_locale
from .content import HANDOUT_ID, load_content
from .fonts import (
    activate_fontconfig,
    load_font_plan,
    require_font_files,
    stack_codepoints,
    uncovered,
)
from .frontdesk import render_catalog
from .infobutton import Language, infobutton
from .approval import read_approvals
from .render import PdfWriter, Renderer, format_long_date, make_renderer
from .settings import Project

LIMITS = {"name": 100, "phone": 30, "instructions": 1000}
PHONE = re.compile(r"^[0-9+()\-. ]{3,30}$")
TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
FORBIDDEN = re.compile(r"[<>\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class FormError(Exception):
    """A field the front desk must correct: shown on the form with a 4xx status."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class PrintRequest:
    handout_id: str
    locale: str
    patient_name: str
    procedure_date: dt.date | None
    arrival_time: dt.time | None
    surgeon: str
    clinic_phone: str
    instructions: str


def _text_field(form: Any, name: str, label: str, limit: int) -> str:
    value = (form.get(name) or "").strip()
    if len(value) > limit:
        raise FormError(f"{label} is too long: {len(value)} characters, at most {limit}.")
    if FORBIDDEN.search(value):
        raise FormError(f"{label} contains characters that are not allowed (such as < or >). "
                        "Type plain text only.")
    return value


def parse_print_request(form: Any, handout_ids: set[str], locales: set[str]) -> PrintRequest:
    """Validate the form fields; raise FormError with a message staff can act on."""
    handout_id = (form.get("handout") or "").strip()
    if not HANDOUT_ID.match(handout_id) or handout_id not in handout_ids:
        raise FormError("Unknown handout. Pick one from the list.", 404)
    locale = (form.get("locale") or "").strip()
    if locale not in locales:
        raise FormError("That language is not available for printing. Pick one from the list.", 404)
    date_text = (form.get("procedure_date") or "").strip()
    procedure_date = None
    if date_text:
        try:
            procedure_date = dt.date.fromisoformat(date_text) if len(date_text) == 10 else None
        except ValueError:
            procedure_date = None
        if procedure_date is None:
            raise FormError(f"Procedure date {date_text!r} is not a real date. Use YYYY-MM-DD, "
                            "for example 2027-03-14.")
    time_text = (form.get("arrival_time") or "").strip()
    if time_text and not TIME.match(time_text):
        raise FormError(f"Arrival time {time_text!r} is not a time. Use HH:MM, for example 07:30.")
    phone = _text_field(form, "clinic_phone", "Clinic phone", LIMITS["phone"])
    if phone and not PHONE.match(phone):
        raise FormError("Clinic phone may only contain digits, spaces and + ( ) - .")
    return PrintRequest(
        handout_id=handout_id,
        locale=locale,
        patient_name=_text_field(form, "patient_name", "Patient name", LIMITS["name"]),
        procedure_date=procedure_date,
        arrival_time=dt.time.fromisoformat(time_text) if time_text else None,
        surgeon=_text_field(form, "surgeon", "Surgeon", LIMITS["name"]),
        clinic_phone=phone,
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


class PrintLog:
    """Which handout revision was printed, in which language, when. Nothing about the patient."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("CREATE TABLE IF NOT EXISTS prints (id INTEGER PRIMARY KEY, handout TEXT NOT NULL, "
                       "revision INTEGER NOT NULL, locale TEXT NOT NULL, printed_at TEXT NOT NULL)")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path)

    def record(self, handout_id: str, revision: int, locale: str, when: dt.datetime | None = None) -> None:
        when = when or dt.datetime.now(dt.timezone.utc)
        with self._connect() as db:
            db.execute("INSERT INTO prints (handout, revision, locale, printed_at) VALUES (?, ?, ?, ?)",
                       (handout_id, revision, locale, when.isoformat(timespec="seconds")))

    def rows(self) -> list[tuple]:
        with self._connect() as db:
            return db.execute("SELECT handout, revision, locale, printed_at FROM prints ORDER BY id").fetchall()


class FrontDesk:
    """What the server keeps between requests: content, one PDF writer, a renderer per locale."""

    def __init__(self, project: Project, log_path: Path):
        self.project = project
        plan = load_font_plan(project)
        require_font_files(plan)
        activate_fontconfig(project, plan)
        self.plan = plan
        self.content = load_content(project.handouts_dir, project.root)
        self.approvals = read_approvals(project, self.content)
        self.ready: dict[str, PreparedLocale] = {}  # the printable locales, checked once at start
        for locale in project.settings.locales:
            prepared = prepare_locale(project, locale, self.content, plan)
            if not prepared.problems:
                self.ready[locale] = prepared
        self.renderers: dict[str, Renderer] = {}
        self.writer: PdfWriter | None = None
        self.lock = threading.Lock()  # WeasyPrint's font configuration is not shared across threads
        self.log = PrintLog(log_path)

    def renderer(self, locale: str) -> Renderer:
        if locale not in self.renderers:
            prepared = self.ready[locale]
            self.renderers[locale] = make_renderer(self.project, locale, prepared.translations,
                                                   self.plan.stack(locale), prepared.draft, self.approvals)
        return self.renderers[locale]

    def check_fonts(self, req: PrintRequest) -> None:
        covered = stack_codepoints(self.plan, req.locale)
        for label, value in (("Patient name", req.patient_name), ("Surgeon", req.surgeon),
                             ("Instructions", req.instructions)):
            missing = uncovered(value, covered)
            if missing:
                raise FormError(f"{label} has characters the fonts for this language cannot print: "
                                f"{' '.join(missing)}. Type it in the handout's script, or leave it blank.")

    def pdf(self, req: PrintRequest) -> bytes:
        self.check_fonts(req)
        handout = self.content.get(req.handout_id)
        with self.lock:
            renderer = self.renderer(req.locale)
            if req.clinic_phone:
                renderer = replace(renderer, clinic=replace(renderer.clinic, phone=req.clinic_phone))
            html = renderer.html(handout, extra={"patient": patient_details(req)})
            if self.writer is None:
                self.writer = PdfWriter(self.project)
            pdf, _ = self.writer.pdf(html)
        self.log.record(handout.id, handout.revision.number, req.locale)
        return pdf


def create_app(project: Project, log_path: Path | None = None) -> Flask:
    desk = FrontDesk(project, log_path or project.build_dir / "print-log.sqlite3")
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024  # a form, never a file
    handout_ids = {h.id for h in desk.content.handouts}

    def page(error: str = "", values: dict | None = None, status: int = 200) -> Response:
        fields = {"handout": "", "locale": project.settings.source_locale, "patient_name": "",
                  "procedure_date": "", "arrival_time": "", "surgeon": "", "clinic_phone": "", "instructions": ""}
        fields.update({k: v for k, v in (values or {}).items() if k in fields})
        html = render_catalog(project, desk.content, form=True, error=error, values=fields, limits=LIMITS)
        return Response(html, status=status, mimetype="text/html")

    @app.get("/")
    def index() -> Response:
        return page()

    @app.get("/<any(pdf, 'pdf-large'):folder>/<locale>/<name>.pdf")
    def built_pdf(folder: str, locale: str, name: str) -> Response:
        if locale not in project.settings.locales or not HANDOUT_ID.match(name):
            abort(404)
        return send_from_directory(project.build_dir / folder / locale, f"{name}.pdf")

    @app.get("/web/")
    @app.get("/web/<path:name>")
    def web_page(name: str = "index.html") -> Response:
        """The web edition, so the Infobutton's links work from this server too."""
        return send_from_directory(project.build_dir / "web", name)

    @app.get("/infobutton")
    def infobutton_request() -> Response:
        """HL7 Infobutton (URL-based, JSON): the handouts of a code in the patient's language."""
        languages = {loc: Language(p.translations, p.draft) for loc, p in desk.ready.items()}
        status, body = infobutton(project, request.args.to_dict(flat=False), content=desk.content,
                                  languages=languages, server_url=request.host_url)
        return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json")

    @app.post("/print")
    def print_pdf() -> Response:
        try:
            req = parse_print_request(request.form, handout_ids, set(desk.ready))
            pdf = desk.pdf(req)
        except FormError as exc:
            return page(str(exc), request.form.to_dict(), exc.status)
        return Response(pdf, mimetype="application/pdf", headers={
            "Content-Disposition": f'inline; filename="{req.handout_id}-{req.locale}.pdf"',
            "Cache-Control": "no-store",
        })

    @app.errorhandler(413)
    def too_large(_: Exception) -> Response:
        return page("The form was too large.", status=413)

    return app


def serve(project: Project, port: int = 8000, log_path: Path | None = None) -> None:
    import logging

    # Request lines carry no patient data (it is in the POST body); keep them terse all the same.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = create_app(project, log_path)
    print(f"front desk: http://127.0.0.1:{port}/  (Ctrl+C to stop)")
    app.run(host="127.0.0.1", port=port, debug=False, threaded=True)
