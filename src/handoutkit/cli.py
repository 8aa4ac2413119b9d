"""The `handouts` command: a thin layer over the pipeline stages.

Each subcommand parses its options, calls one library function, and prints
a summary. Expected user mistakes (HandoutError) print `file:line: problem`
lines and exit 1 without a traceback.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from handoutkit import __version__
from handoutkit.content.settings import Project, find_project
from handoutkit.errors import HandoutError
from handoutkit.files import atomic_write
from handoutkit.outputs.editions import EDITIONS

if TYPE_CHECKING:  # imported where used: `import handoutkit.cli` stays light
    from handoutkit.outputs.build import LocaleGate


def cmd_build(project: Project, args: argparse.Namespace) -> int:
    """Render PDFs.

    Example: handouts build --locale es --handout lumbar-discectomy
    """
    from handoutkit.outputs.build import build, locale_group, parse_shard

    locales = tuple(args.locale or ())
    if args.locale_group:
        if locales:
            raise HandoutError("--locale-group and --locale: give one or the other")
        locales = locale_group(project.settings.locales, parse_shard(args.locale_group, "--locale-group"))
        if not locales:
            raise HandoutError(f"--locale-group {args.locale_group}: this group has no locale "
                               f"(handouts/clinic.yaml publishes {len(project.settings.locales)})")
    result = build(project, locales or None, tuple(args.handout or ()) or None,
                   workers=args.jobs, force=args.force, shard=parse_shard(args.shard),
                   editions=tuple(args.edition or EDITIONS))
    if args.timings:
        timings = {"processes": result.processes, "steps": result.steps, "work": result.work,
                   "rendered": len(result.outputs)}
        atomic_write(Path(args.timings), (json.dumps(timings, indent=1, sort_keys=True) + "\n").encode())
    for problem in result.problems:
        print(problem, file=sys.stderr)
    every = result.outputs + result.unchanged
    locales = len({o.locale for o in every})
    pdfs = [o for o in every if o.pdf]
    rendered = sum(1 for o in result.outputs if o.pdf)
    pages = len(every) - len(pdfs)  # the web edition's pages
    summary = (f"{len(pdfs)} PDFs in {locales} locales under build/pdf/: "
               f"{rendered} rendered, {len(pdfs) - rendered} unchanged"
               + (f"; {pages} web pages under build/web/" if pages else ""))
    if result.ok:
        print(summary)
        return 0
    skipped = f"; skipped {', '.join(result.skipped_locales)}" if result.skipped_locales else ""
    print(f"{summary}; FAILED with {len(result.problems)} problem(s){skipped}", file=sys.stderr)
    return 1


def cmd_catalog(project: Project, args: argparse.Namespace) -> int:
    """Write build/index.html, the front-desk catalog, and the packets, from the PDFs that are built
    (after sharded builds).

    Example: handouts catalog
    """
    from handoutkit.content.handouts import load_content
    from handoutkit.outputs.catalog_page import write_catalog
    from handoutkit.outputs.packets import build_packets, entries_from_pdfs

    content = load_content(project.handouts_dir, project.root)
    for line in build_packets(project, content, project.settings.locales, entries_from_pdfs(project, content),
                              EDITIONS["standard"]):
        print(line)
    print(write_catalog(project, content))
    return 0


def cmd_preview(project: Project, args: argparse.Namespace) -> int:
    """Preview one handout in one locale for a translator, even an incomplete or unpublished one.

    Missing strings print in English, highlighted, under a PREVIEW banner; the file goes
    to build/preview/, never to build/pdf/ or the catalog. The handout's pictures print with
    their labels in the locale; a label too long for its room is named (the build refuses it).
    Example: handouts preview acdf --locale es
    """
    from handoutkit.outputs.preview import preview

    result = preview(project, args.handout, args.locale)
    print(f"{project.rel(result.pdf)}  ({result.pages} page{'s' if result.pages != 1 else ''})")
    print(project.rel(result.html))
    if result.untranslated:
        print(f"{result.untranslated} string(s) of this handout are still in English (highlighted)",
              file=sys.stderr)
    for overflow in result.overflows:
        # The build refuses these (like a page over budget); the preview shows where they spill.
        print(f"warning: {overflow}: shorten it in {project.rel(project.po_path(result.locale))}", file=sys.stderr)
    return 0


def cmd_check(project: Project, args: argparse.Namespace) -> int:
    """Check that translated locales are complete and safe to print: the build's own gate.

    Every locale is prepared exactly as the build prepares it (its strings from the content as it
    is now, the checks, the font coverage), and locales/handouts.pot must match a fresh extraction.
    Exits 1 when the build would refuse any of them. See docs/gates.md.
    Example: handouts check --locale es
    """
    from handoutkit.outputs.build import gate

    result = gate(project, tuple(args.locale or ()) or None)
    records = record_problems(project, [r for r in result.locales if not r.source])
    if args.format == "json":
        import json

        project_entry = [{"locale": None, "file": project.rel(project.pot_path), "complete": False,
                          "findings": [_finding(p) for p in result.problems]}] if result.problems else []
        print(json.dumps([*project_entry, *({
            "locale": r.locale, "file": r.file, "complete": r.ok, "status": r.status, "total": r.total,
            "translated": r.translated, "fuzzy": r.fuzzy, "untranslated": r.untranslated,
            "other_errors": len(r.other_errors), "words_left": r.words_left, "safety_unreviewed": r.safety_open,
            "review_record": records.get(r.locale),
            "findings": [_finding(p) for p in r.findings],
        } for r in result.locales)], indent=1, ensure_ascii=False))
        return 0 if result.ok else 1
    for problem in result.problems:
        print(problem)
    for locale in result.locales:
        for problem in locale.findings:
            print(problem)
    for line in records.values():
        print(line)
    for locale in result.locales:
        if locale.source:
            print(f"{locale.locale}: {'prints' if locale.ok else 'NOT printable'}: the source language "
                  f"(the English of handouts/*.yaml), {len(locale.errors)} error(s)", file=sys.stderr)
            continue
        state = "complete" if locale.ok else "NOT complete"
        unreviewed = locale.safety_open
        print(f"{locale.locale}: {state}: {locale.translated}/{locale.total} translated, "
              f"{locale.fuzzy} fuzzy, {locale.untranslated} untranslated, "
              f"{len(locale.other_errors)} other error(s); "
              + (f"{unreviewed} safety-critical entries not back-translated (draft notice stays)"
                 if unreviewed else "safety-critical entries all back-translated"
                 if unreviewed == 0 else "safety-critical review unknown (catalog unreadable)"),
              file=sys.stderr)
    if result.problems:
        print(f"project: {len(result.problems)} error(s) (above)", file=sys.stderr)
    return 0 if result.ok else 1


def _finding(problem) -> dict:
    return {"file": problem.path, "line": problem.line, "severity": problem.severity, "message": problem.message}


def record_problems(project: Project, locales: list[LocaleGate]) -> dict[str, str]:
    """Why recorded reviews (by locale) and approvals (by handout id) do not count: unsigned, signed by
    a key not allowed in handouts/approvers, or edited after signing. Their PDFs stay drafts.
    `locales` are the gate's (outputs.build.LocaleGate): the review state of the locale as prepared."""
    from handoutkit.content.approval import approval_path, read_approvals
    from handoutkit.content.handouts import load_content
    from handoutkit.translation.review import review_path

    found = {}
    for gate in locales:  # an unreadable catalog or record is reported by the checks themselves
        if gate.review_problem:
            found[gate.locale] = (f"{project.rel(review_path(project, gate.locale))}:1: warning: the review does "
                                  f"not count: {gate.review_problem}; the {gate.locale} PDFs stay drafts")
    # Approvals are of the English, which every locale prints: reported whichever locales are checked.
    for handout_id, approval in sorted(read_approvals(project, load_content(project.handouts_dir,
                                                                            project.root)).items()):
        if approval.problem:
            found[handout_id] = (f"{project.rel(approval_path(project, handout_id))}:1: warning: the approval "
                                 f"does not count: {approval.problem}; its PDFs stay drafts")
    return found


def cmd_extract(project: Project, args: argparse.Namespace) -> int:
    """Write locales/handouts.pot from the handouts and templates.

    Example: handouts extract
    """
    from handoutkit.translation.extract import extract

    result = extract(project)
    state = "written" if result.written else "unchanged"
    print(f"{project.rel(result.path)}: {result.messages} messages, {state}")
    return 0


def cmd_update(project: Project, args: argparse.Namespace) -> int:
    """Extract, then merge handouts.pot into every catalog under locales/ (published or not).

    Example: handouts update
    """
    from handoutkit.translation.catalogs import load_catalogs, update
    from handoutkit.translation.extract import extract

    locales = tuple(args.locale or ()) or project.catalog_locales()
    # A writer, so not through the prepared locale: update edits the PO files themselves (GNU msgmerge),
    # and must run on a locale the checks refuse. A broken catalog stops everything before anything is written.
    load_catalogs(project, locales)
    extract(project)
    for result in update(project, locales):
        state = "updated" if result.written else "unchanged"
        print(f"{project.rel(result.path)}: {state}; {result.fuzzy} fuzzy, "
              f"{result.untranslated} untranslated, {result.obsolete} obsolete")
    return 0


def cmd_confirm_translation(project: Project, args: argparse.Namespace) -> int:
    """Confirm that translations made for older English still say what the English says now.

    `handouts update` records each translation whose English changed (translated-from.yaml beside
    the PO file); `check` fails on it until it is re-translated or confirmed here by a translator
    who compared it with the new English. Without --english, every such entry of the locale.
    Example: handouts confirm-translation es --english "Trouble breathing or chest pain"
    """
    from handoutkit.content.handouts import load_content
    from handoutkit.translation.prepared import prepare_locale, readable_catalog
    from handoutkit.translation.provenance import confirm

    # Through the prepared locale, as `check` reads it: the locale fails its checks until confirmed.
    prepared = prepare_locale(project, args.locale, load_content(project.handouts_dir, project.root))
    confirmed = confirm(project, args.locale, readable_catalog(prepared), tuple(args.english or ()))
    for record in confirmed:
        print(f"{args.locale}: confirmed for {record.english!r} (translated for {record.translated_from!r})")
    print(f"{args.locale}: {len(confirmed)} translation(s) confirmed", file=sys.stderr)
    return 0


def cmd_export_xliff(project: Project, args: argparse.Namespace) -> int:
    """Write a locale's strings as XLIFF 1.2 for a translation agency's CAT tool (Trados, memoQ).

    Placeholders travel as <ph> and **bold** as <g>, which CAT tools lock.
    Example: handouts export-xliff es -o es.xlf
    """
    from handoutkit.translation.exchange import export_xliff

    result = export_xliff(project, args.locale, args.output)
    print(f"{project.rel(result.path)}: {result.units} units, {result.translated} translated, "
          f"{result.units - result.translated} to translate or review")
    return 0


def cmd_import_xliff(project: Project, args: argparse.Namespace) -> int:
    """Take a translated XLIFF back into its PO file, after the full check (problems at FILE:line).

    Nothing is written unless every check passes. The locale is the file's target-language.
    Example: handouts import-xliff es.xlf
    """
    from handoutkit.translation.exchange import import_xliff

    result = import_xliff(project, args.file)
    for warning in result.warnings:
        print(warning, file=sys.stderr)
    state = "updated" if result.written else "unchanged"
    print(f"{project.rel(result.path)}: {state}; {result.changed} entr{'y' if result.changed == 1 else 'ies'} "
          f"changed")
    if result.not_printed:
        print(f"{result.not_printed} unit(s) came back in a state that is not final (new, needs-*, an "
              "unconfirmed machine or fuzzy match): imported as fuzzy, not printed", file=sys.stderr)
    if result.emptied:
        print(f"{result.emptied} translated entr{'y' if result.emptied == 1 else 'ies'} came back with an empty "
              f"target and {'is' if result.emptied == 1 else 'are'} now untranslated: the language does not print "
              "until they are translated again", file=sys.stderr)
    return 0


def cmd_export_tmx(project: Project, args: argparse.Namespace) -> int:
    """Write a TMX translation memory of the reviewed translations (drafts are left out).

    Example: handouts export-tmx -o handouts.tmx
    """
    from handoutkit.translation.exchange import export_tmx

    result = export_tmx(project, args.output)
    print(f"{project.rel(result.path)}: {result.units} translation units from "
          f"{', '.join(result.locales) or 'no locale'}")
    if result.skipped:
        print(f"left out, not reviewed: {', '.join(result.skipped)} (see `handouts review`)", file=sys.stderr)
    return 0


def cmd_init_locale(project: Project, args: argparse.Namespace) -> int:
    """Create the catalog of a new language from handouts.pot.

    Example: handouts init-locale pt_BR
    """
    from handoutkit.translation.catalogs import init_locale

    result = init_locale(project, args.locale, machine_draft=args.machine_draft)
    print(f"{project.rel(result.path)}: created with {result.messages} messages to translate")
    if args.locale not in project.settings.locales:
        print(f"add '{args.locale}' to locales in handouts/clinic.yaml to publish it", file=sys.stderr)
    return 0


def cmd_review(project: Project, args: argparse.Namespace) -> int:
    """Record that a qualified medical translator reviewed a complete locale, and the
    back-translations of its safety-critical entries from a filled-in sheet.

    The draft notice stays on the locale's PDFs until every safety-critical entry
    has a back-translation record (see `handouts back-translation-sheet`).

    The record is signed with the reviewer's own SSH key (--key); it counts only
    when handouts/approvers allows that key to review the locale (docs/clinicians.md).

    Example: handouts review es --by "Ana Ruiz, CMI" --key ~/.ssh/id_ed25519 --back-translations es-sheet.csv
    """
    from handoutkit.content.handouts import load_content
    from handoutkit.translation.fontplan import load_font_plan
    from handoutkit.translation.prepared import prepare_locale
    from handoutkit.translation.review import read_sheet, record_review

    if args.locale == project.settings.source_locale or args.locale not in project.catalog_locales():
        raise HandoutError(f"no translated catalog for locale '{args.locale}' "
                           f"(have: {', '.join(project.catalog_locales())})")
    # The same gate as `check` and the build (the file read once, fonts included).
    prepared = prepare_locale(project, args.locale, load_content(project.handouts_dir, project.root),
                              load_font_plan(project))
    if not prepared.ok:
        for problem in prepared.problems:
            print(problem, file=sys.stderr)
        raise HandoutError(f"{project.rel(project.po_path(args.locale))}: not complete; "
                           "only a complete locale can be reviewed")
    rows, label = [], ""
    if args.back_translations:
        label = str(args.back_translations)
        rows = read_sheet(args.back_translations, label)
    state = record_review(project, args.locale, prepared.catalog, args.by, args.key,
                          back_translations=rows, sheet_label=label)
    for problem in state.disputed:
        print(problem, file=sys.stderr)
    if rows:
        print(f"{args.locale}: recorded {len(rows)} back-translation(s) by {state.reviewed_by}"
              + (f", {len(state.disputed)} of them disputed (see above)" if state.disputed else ""))
    if state.safety_open:
        print(f"{args.locale}: reviewed by {state.reviewed_by} on {state.reviewed_on}, but {state.safety_open} "
              f"safety-critical entries have no back-translation yet; the draft notice stays "
              f"(`handouts back-translation-sheet {args.locale}`)")
    else:
        print(f"{args.locale}: reviewed by {state.reviewed_by} on {state.reviewed_on}, every safety-critical entry "
              "back-translated; the draft notice is gone from its PDFs until a string changes")
    return 0


def cmd_back_translation_sheet(project: Project, args: argparse.Namespace) -> int:
    """Write the sheet a bilingual reviewer fills in: context | English | translation | back_translation.

    A CSV (opens in any spreadsheet) with the safety-critical entries that have
    no current back-translation (all of them with --all). The reviewer writes
    what the translation says, in English, in the empty last column; then record
    it with `handouts review LOCALE --by NAME --back-translations FILE`.

    Example: handouts back-translation-sheet es --output es-sheet.csv
    """
    from handoutkit.content.handouts import load_content
    from handoutkit.files import atomic_write
    from handoutkit.translation.prepared import prepare_locale, readable_catalog
    from handoutkit.translation.review import back_translation_sheet

    if args.locale == project.settings.source_locale or args.locale not in project.catalog_locales():
        raise HandoutError(f"no translated catalog for locale '{args.locale}' "
                           f"(have: {', '.join(project.catalog_locales())})")
    prepared = prepare_locale(project, args.locale, load_content(project.handouts_dir, project.root))
    data, count = back_translation_sheet(project, args.locale, readable_catalog(prepared), args.all)
    path = args.output or project.build_dir / "back-translation" / f"{args.locale}.csv"
    atomic_write(path, data)
    print(f"{project.rel(path)}: {count} safety-critical entr{'y' if count == 1 else 'ies'} to back-translate")
    return 0


def cmd_approve(project: Project, args: argparse.Namespace) -> int:
    """Record that a clinician approved the English of a handout as it prints now.

    Approve only after the clinician has gone through `handouts review-sheet ID`
    and confirmed every statement. Statements flagged `confirm:` (no source)
    need --confirm-flagged: the clinician confirms them by approving. Every item of
    the clinic's checklists (handouts/checklists.yaml) must be covered, or waived
    explicitly with --waive ITEM=REASON; the waiver is part of the signed record.

    The record is signed with the clinician's own SSH key (--key); it counts only
    when handouts/approvers allows that key to approve (docs/clinicians.md).

    Example: handouts approve acdf --by "Jane Doe, MD" --key ~/.ssh/id_ed25519
    """
    from handoutkit.content.approval import record_approval
    from handoutkit.content.checklists import coverage, read_checklists, waivable
    from handoutkit.content.handouts import handout_texts, load_content

    content = load_content(project.handouts_dir, project.root)
    try:
        handout = content.get(args.handout)
    except KeyError:
        known = ", ".join(sorted(h.id for h in content.handouts))
        raise HandoutError(f"no handout with id '{args.handout}' (known: {known})") from None
    waivers = dict(args.waive or ())
    checklists = read_checklists(project.handouts_dir, project.root)
    if unknown := waivable(handout, checklists, waivers):
        raise HandoutError(f"{handout.id}: --waive {', '.join(unknown)}: not an item of its checklists "
                           f"(they are: {', '.join(i for _, i in checklists.required(handout)) or 'none'})")
    missing = [c for c in coverage(handout, checklists, waivers) if c.missing]
    if missing:
        for entry in missing:
            print(f"{handout.path}:{handout.id_line}: misses checklist item '{entry.item}' ({entry.topic})",
                  file=sys.stderr)
        raise HandoutError(f"{handout.path}: {len(missing)} checklist item(s) not covered; have them written, "
                           "or waive each one explicitly with --waive ITEM=REASON")
    # Every text the page prints: the summary, the key points and the headings too, not only the blocks.
    flagged = [t for t in dict.fromkeys(handout_texts(handout)) if t.confirm]
    if flagged and not args.confirm_flagged:
        for text in flagged:
            print(f"{text.path}:{text.line}: no source, please confirm: {text.value!r}", file=sys.stderr)
        raise HandoutError(f"{handout.path}: {len(flagged)} statement(s) have no source; approve with "
                           "--confirm-flagged only once the clinician has confirmed each of them")
    approval = record_approval(project, handout, args.by, args.key, waivers=waivers)
    years = project.settings.review_interval_years
    print(f"{handout.id}: approved by {approval.approved_by} on {approval.approved_on}, signed by "
          f"{approval.signer}; the draft mark is gone "
          f"from its PDFs until its English changes, and the approval expires in {years} year(s)")
    return 0


def cmd_review_sheet(project: Project, args: argparse.Namespace) -> int:
    """Write the approving clinician's review sheet of a handout: every statement, its citation
    or "NO SOURCE: please confirm", and lines to sign (build/review/ID.pdf).

    Example: handouts review-sheet acdf
    """
    from handoutkit.outputs.review_sheet import write_review_sheet

    sheet = write_review_sheet(project, args.handout, args.output)
    print(f"{project.rel(sheet.path)}: {sheet.statements} statements, {sheet.unsourced} without a source "
          f"(please confirm), {sheet.pages} page{'s' if sheet.pages != 1 else ''}")
    return 0


def cmd_lint(project: Project, args: argparse.Namespace) -> int:
    """Check plain language and safety: reading level, sentence and list length, acronyms,
    a warning block, review age, and the page budget of the last build.

    Example: handouts lint
    """
    from handoutkit.content.handouts import load_content
    from handoutkit.content.lint import lint
    from handoutkit.outputs.manifest import read_page_counts
    from handoutkit.translation.checks import CHECKS
    from handoutkit.translation.prepared import prepare_all

    translations = {}
    for locale, prepared in prepare_all(project, load_content(project.handouts_dir, project.root)).items():
        if prepared.ok:
            translations[locale] = prepared.translations
        else:
            print(f"{locale}: reading level not measured: {prepared.reason}", file=sys.stderr)
    report = lint(project, translations, read_page_counts(project), checks=CHECKS)
    for problem in report.problems:
        print(problem)
    if report.reading:
        print(f"\n{'handout':<34} {'locale':<8} {'reading level':<34} pages")
        for (handout_id, locale), level in sorted(report.reading.items()):
            pages = report.pages.get((handout_id, locale), "-")
            mark = "" if level.ok else "  <- past the limit"
            print(f"{handout_id:<34} {locale:<8} {level.summary:<34} {pages}{mark}")
    errors, warnings = len(report.errors), len(report.problems) - len(report.errors)
    print(f"lint: {errors} error(s), {warnings} warning(s)", file=sys.stderr)
    return 1 if errors else 0


def cmd_stats(project: Project, args: argparse.Namespace) -> int:
    """Show how complete each locale is, its review state, and each handout's reading level and pages.

    Example: handouts stats --format json --html
    """
    import json

    from handoutkit.outputs.stats import collect, format_table, write_dashboard

    stats = collect(project)
    print(json.dumps(stats.as_dict(), indent=1, ensure_ascii=False) if args.format == "json"
          else format_table(stats))
    if args.html:
        write_dashboard(project, stats)
        print(f"wrote {project.rel(project.build_dir / 'stats.html')}", file=sys.stderr)
    return 0


def cmd_serve(project: Project, args: argparse.Namespace) -> int:
    """Serve the catalog and personalised printing to the front desks (waitress, warm render workers).

    Binds 127.0.0.1 unless --host says otherwise. Another address is reachable from the LAN: it
    needs --allowed-host (the host name the desks type, or the proxy forwards) and desks that sign
    in (desk accounts from `handouts desk-account`, or --trusted-proxy with --auth-header). Put TLS
    in front of it: see docs/operations.md.

    Example: handouts serve --host 127.0.0.1 --trusted-proxy 127.0.0.1 --allowed-host handouts.clinic.lan
    """
    from handoutkit.desk.server import serve

    serve(project, host=args.host, port=args.port, workers=args.workers, queue=args.queue,
          allowed_hosts=tuple(args.allowed_host or ()), state_dir=args.state_dir, log_path=args.print_log,
          trusted_proxy=args.trusted_proxy, accounts=args.accounts, auth_header=args.auth_header,
          keep_days=args.keep_days, secret_file=args.secret_file, log_url=args.log_url,
          archive_dir=args.archive_dir)
    return 0


def cmd_desk_account(project: Project, args: argparse.Namespace) -> int:
    """Add a desk account for `handouts serve`, or change its password (read from standard input).

    The password is stored as a salted scrypt hash in STATE_DIR/desk-accounts (mode 0600).

    Example: handouts desk-account desk-1
    """
    import getpass

    from handoutkit.desk.auth import ACCOUNTS_FILE, set_account

    path = args.accounts or _state_dir(project, args) / ACCOUNTS_FILE
    if sys.stdin.isatty():
        password = getpass.getpass(f"password for {args.name}: ")
        if getpass.getpass("again: ") != password:
            raise HandoutError("the two passwords differ; nothing was changed")
    else:
        password = sys.stdin.readline().rstrip("\n")
    new = set_account(path, args.name, password)
    print(f"{'added' if new else 'changed the password of'} desk account {args.name} in {path}", file=sys.stderr)
    return 0


def _state_dir(project: Project, args: argparse.Namespace) -> Path:
    return args.state_dir or project.root / "var"


def cmd_print_log(project: Project, args: argparse.Namespace) -> int:
    """List the print log: which handout version was printed, in which language, at which desk, when.

    Example: handouts print-log --format json
    """
    import json

    from handoutkit.desk.printlog import COLUMNS, PrintLog

    log = PrintLog.reader(_state_dir(project, args), args.print_log, args.log_url, args.archive_dir)
    rows = log.rows()
    if args.format == "json":
        print(json.dumps(rows, indent=1, ensure_ascii=False))
        return 0
    shown = ("id", "printed_at", "desk", "packet", "handout", "revision", "edition", "locale", "clinic_phone")
    print("\t".join(shown))
    for row in rows:
        print("\t".join("" if row[c] is None else str(row[c]) for c in shown if c in COLUMNS))
    print(f"{len(rows)} print(s) in {project.rel(log.path)}", file=sys.stderr)
    return 0


def cmd_reprint(project: Project, args: argparse.Namespace) -> int:
    """Write the archived handout a logged print was made from (without the patient's details).

    Example: handouts reprint 42 -o reprint.pdf
    """
    from handoutkit.desk.printlog import PrintLog
    from handoutkit.files import atomic_write

    log = PrintLog.reader(_state_dir(project, args), args.print_log, args.log_url, args.archive_dir)
    row = log.row(args.log_id)
    atomic_write(args.output, log.archived_pdf(row["version_sha256"]))
    print(f"wrote {args.output}: {row['handout']} revision {row['revision']}, {row['locale']}, "
          f"{row['edition']}, as printed {row['printed_at']}", file=sys.stderr)
    return 0


def cmd_fhir_record(project: Project, args: argparse.Namespace) -> int:
    """Write a FHIR R4 Communication recording that a logged print was given to a patient.

    The patient reference comes from the EHR (--patient); the print log never stores one.
    Example: handouts fhir-record 42 --patient Patient/123 -o given.json
    """
    import json

    from handoutkit.content.handouts import load_content
    from handoutkit.desk.fhir import Given, communication
    from handoutkit.desk.printlog import PrintLog

    row = PrintLog.reader(_state_dir(project, args), args.print_log, args.log_url, args.archive_dir).row(args.log_id)
    content = load_content(project.handouts_dir, project.root)
    try:
        title = content.get(row["handout"]).title.value
    except KeyError:
        title = row["handout"]  # a handout since removed: the record still says what was given
    # The row's random entry id, not its number: a replaced log restarts its numbers at 1, and an EHR
    # must never see two records with one identifier.
    given = Given(row["entry"], row["printed_at"], row["handout"], title, row["revision"], row["edition"],
                  row["locale"], row["english_sha256"], row["translation_sha256"], row["version_sha256"])
    text = json.dumps(communication(project, given, args.patient), indent=1, ensure_ascii=False) + "\n"
    if args.output:
        from handoutkit.files import atomic_write

        atomic_write(args.output, text.encode("utf-8"))
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


Command = Callable[[Project, argparse.Namespace], int]


def _add(sub: argparse._SubParsersAction, name: str, func: Command) -> argparse.ArgumentParser:
    doc = inspect.cleandoc(func.__doc__ or "")
    parser = sub.add_parser(name, help=doc.splitlines()[0], description=doc,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.set_defaults(func=func)
    return parser


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, found {text!r}")
    return int(text)


def _waiver(text: str) -> tuple[str, str]:
    item, _, reason = text.partition("=")
    if not item.strip() or not reason.strip():
        raise argparse.ArgumentTypeError(f"expected ITEM=REASON, such as bladder-bowel=\"not a lumbar surgery\", "
                                         f"found {text!r}")
    return item.strip(), " ".join(reason.split())


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="handouts",
        description="Publish multilingual patient handouts: YAML + gettext + WeasyPrint to PDF.")
    parser.add_argument("--version", action="version", version=f"handoutkit {__version__}")
    parser.add_argument("-C", "--project", type=Path, default=None,
                        help="project folder (default: the one containing the current folder)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = _add(sub, "build", cmd_build)
    build.add_argument("--locale", action="append", metavar="L", help="only this locale (repeatable)")
    build.add_argument("--handout", action="append", metavar="ID", help="only this handout (repeatable)")
    build.add_argument("-j", "--jobs", type=int, default=None, metavar="N",
                       help="worker processes (default: all cores)")
    build.add_argument("--force", action="store_true", help="render everything, even PDFs that are up to date")
    build.add_argument("--edition", action="append", choices=tuple(EDITIONS),
                       help="only this edition (repeatable; default: both)")
    build.add_argument("--shard", default="1/1", metavar="K/N",
                       help="build only the K-th of N deterministic parts of the outputs (for CI matrices)")
    build.add_argument("--locale-group", metavar="K/N",
                       help="build only the K-th of N groups of the published locales, preparing only those "
                            "(for CI matrices; a final job runs `handouts catalog`)")
    build.add_argument("--timings", metavar="FILE",
                       help="write where the time went (the build's steps, the workers' phases) as JSON (make bench)")

    _add(sub, "catalog", cmd_catalog)

    check = _add(sub, "check", cmd_check)
    check.add_argument("--locale", action="append", metavar="L", help="only this locale (repeatable)")
    check.add_argument("--format", choices=("text", "json"), default="text")

    preview = _add(sub, "preview", cmd_preview)
    preview.add_argument("handout", help="the handout id, such as lumbar-discectomy")
    preview.add_argument("--locale", required=True, metavar="L")

    approve = _add(sub, "approve", cmd_approve)
    approve.add_argument("handout", help="the handout id, such as acdf")
    approve.add_argument("--by", required=True, metavar="NAME",
                         help="the approving clinician's name and credentials")
    approve.add_argument("--key", required=True, type=Path, metavar="PATH",
                         help="the clinician's private SSH key, listed in handouts/approvers")
    approve.add_argument("--waive", action="append", type=_waiver, metavar="ITEM=REASON",
                         help="the clinician waives a checklist item this handout does not cover, and why "
                              "(repeatable; signed into the approval record)")
    approve.add_argument("--confirm-flagged", action="store_true",
                         help="the clinician confirmed every statement flagged `confirm:` (no source)")

    review_sheet = _add(sub, "review-sheet", cmd_review_sheet)
    review_sheet.add_argument("handout", help="the handout id, such as acdf")
    review_sheet.add_argument("-o", "--output", type=Path, metavar="FILE",
                              help="where to write the PDF (default: build/review/ID.pdf)")

    _add(sub, "extract", cmd_extract)
    _add(sub, "lint", cmd_lint)

    print_log = _add(sub, "print-log", cmd_print_log)
    print_log.add_argument("--format", choices=("table", "json"), default="table")
    reprint = _add(sub, "reprint", cmd_reprint)
    reprint.add_argument("log_id", type=int, metavar="LOG_ID", help="the print's id in `handouts print-log`")
    reprint.add_argument("-o", "--output", type=Path, required=True, metavar="FILE", help="where to write the PDF")

    fhir = _add(sub, "fhir-record", cmd_fhir_record)
    fhir.add_argument("log_id", type=int, metavar="LOG_ID", help="the print's id in `handouts print-log`")
    fhir.add_argument("--patient", default=None, metavar="REFERENCE",
                      help="the EHR's patient reference, such as Patient/123 (never stored here)")
    fhir.add_argument("-o", "--output", type=Path, default=None, metavar="FILE", help="write the JSON here")

    serve = _add(sub, "serve", cmd_serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=_positive, default=len(os.sched_getaffinity(0)), metavar="N",
                       help="render worker processes (default: all cores)")
    serve.add_argument("--queue", type=_positive, default=16, metavar="N",
                       help="prints that may wait for a worker; beyond that a desk gets 'busy, try again'")
    serve.add_argument("--allowed-host", action="append", metavar="NAME",
                       help="a host name the desks use (repeatable); needed for any --host but loopback")
    serve.add_argument("--trusted-proxy", default=None, metavar="ADDR",
                       help="the reverse proxy's address, whose X-Forwarded-* headers are believed")
    serve.add_argument("--auth-header", default=None, metavar="NAME",
                       help="the header in which the trusted proxy names the user it authenticated")
    serve.add_argument("--keep-days", type=_positive, default=None, metavar="DAYS",
                       help="delete print log rows and archived versions older than this (daily); "
                            "default: keep everything")
    serve.add_argument("--secret-file", type=Path, default=None, metavar="PATH",
                       help="the secret that signs print forms, shared by servers behind one address "
                            "(default: STATE_DIR/form-secret; created 0600 if missing)")
    account = _add(sub, "desk-account", cmd_desk_account)
    account.add_argument("name", help="the desk's account name, such as desk-1")
    for command in (serve, account):
        command.add_argument("--accounts", type=Path, default=None, metavar="PATH",
                             help="desk accounts file (default: STATE_DIR/desk-accounts)")
    account.add_argument("--state-dir", type=Path, default=None, metavar="DIR",
                         help="the server's state folder (default: var/)")
    for command in (serve, print_log, reprint, fhir):
        command.add_argument("--state-dir", type=Path, default=None, metavar="DIR",
                             help="print log and archive folder (default: var/)")
        command.add_argument("--print-log", type=Path, default=None, metavar="PATH",
                             help="SQLite print log (default: STATE_DIR/print-log.sqlite3)")
        command.add_argument("--log-url", default=None, metavar="URL",
                             help="the print log in PostgreSQL, shared by several servers: "
                                  "postgresql://USER:PASSWORD@HOST/DATABASE (default: the SQLite file)")
        command.add_argument("--archive-dir", type=Path, default=None, metavar="DIR",
                             help="the archive of printed versions, which servers sharing a log may share "
                                  "(default: STATE_DIR/archive)")

    stats = _add(sub, "stats", cmd_stats)
    stats.add_argument("--format", choices=("table", "json"), default="table")
    stats.add_argument("--html", action="store_true", help="also write build/stats.html")

    update = _add(sub, "update", cmd_update)
    update.add_argument("--locale", action="append", metavar="L", help="only this locale (repeatable)")

    confirm = _add(sub, "confirm-translation", cmd_confirm_translation)
    confirm.add_argument("locale", help="the locale, such as es")
    confirm.add_argument("--english", action="append", metavar="TEXT",
                         help="the current English of the entry to confirm (repeatable; default: every one)")

    export_xliff = _add(sub, "export-xliff", cmd_export_xliff)
    export_xliff.add_argument("locale", help="the locale to export, such as es")
    export_xliff.add_argument("-o", "--output", type=Path, default=None, metavar="FILE",
                              help="where to write it (default: build/xliff/LOCALE.xlf)")
    import_xliff = _add(sub, "import-xliff", cmd_import_xliff)
    import_xliff.add_argument("file", type=Path, help="the translated XLIFF file")
    export_tmx = _add(sub, "export-tmx", cmd_export_tmx)
    export_tmx.add_argument("-o", "--output", type=Path, default=None, metavar="FILE",
                            help="where to write it (default: build/translation-memory.tmx)")

    init = _add(sub, "init-locale", cmd_init_locale)
    init.add_argument("locale", help="a Babel locale name, such as es, zh_Hans, pt_BR")
    init.add_argument("--machine-draft", action="store_true",
                      help="mark the catalog as a machine draft awaiting medical review")

    review = _add(sub, "review", cmd_review)
    review.add_argument("locale")
    review.add_argument("--by", required=True, metavar="NAME", help="the reviewer's name and credential")
    review.add_argument("--key", required=True, type=Path, metavar="PATH",
                        help="the reviewer's private SSH key, listed in handouts/approvers for this locale")
    review.add_argument("--back-translations", type=Path, metavar="FILE",
                        help="a filled-in sheet from `handouts back-translation-sheet`")

    sheet = _add(sub, "back-translation-sheet", cmd_back_translation_sheet)
    sheet.add_argument("locale")
    sheet.add_argument("-o", "--output", type=Path, metavar="FILE",
                       help="where to write the CSV (default: build/back-translation/LOCALE.csv)")
    sheet.add_argument("--all", action="store_true",
                       help="every safety-critical entry, not only those without a current back-translation")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    try:
        project = Project(args.project.resolve()) if args.project else find_project()
        return args.func(project, args)
    except HandoutError as exc:
        print(exc, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; finished files are complete, nothing half-written was kept", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
