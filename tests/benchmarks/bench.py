"""`make bench`: the build's speed, memory and output size, as ratios against baselines measured in this run.

Everything runs on a throw-away copy of the project under a temporary folder:

  (a) limit    bare WeasyPrint on the same HTML documents (each once, as the build
               keeps it: no copyfitting) in a pool of as many warm processes as the
               build uses, wall-clock (bare_pool.py). The old figure (one warm process,
               summed, divided by the cores) is kept beside it for the history.
  (b) clean    `handouts build` from nothing; ratio to (a), target <= 1.25; the time
               over (a) is broken down by phase in every run (`handouts build --timings`)
  (c) naive    one `weasyprint` command per file on the same HTML; our clean build
               must be >= 6x faster per PDF
  (d) no-op    a second `handouts build`; target <= 1 s
  (e) one msg  change one msgstr in one locale: only the PDFs that use it render
  (f) memory   peak RSS of the largest build process; target <= 300 MB
  (g) sizes    PDF size per 2 pages by script; Latin, Cyrillic, Arabic, Devanagari
               <= 40 KiB, CJK <= 150 KiB
  (h) scale    synthetic libraries of 10, 50 and 200 handouts x 13 locales
               (standard edition): time per PDF must stay flat
  (i)-(l)      the front-desk server (bench_server.py): cold start to first print,
               p50/p95 and throughput at 1, 4 and 8 desks against a bare render,
               every handout x locale with maximum-length fields

Prints a table and writes build/bench.json in the real project.
Usage: python tests/benchmarks/bench.py [--quick | --no-scale] [--no-server] [--smoke] [--out FILE]

`--smoke` runs every step on a tiny library (2 handouts x 3 locales, scale 2 and 3,
no server) and checks no target: it keeps the bench from rotting (tests/test_bench.py).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from handoutkit.content.handouts import handout_files
from handoutkit.files import atomic_write
from handoutkit.translation.catalogs import read_catalog

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SCRIPTS = {"Latin": ("en", "es", "vi", "tl", "ht", "pt"), "Cyrillic": ("ru",), "Arabic": ("ar", "fa"),
           "Devanagari": ("ne",), "CJK": ("zh_Hans", "zh_Hant", "ko")}
PDF_EDITIONS = ("--edition", "standard", "--edition", "large")
SIZE_TARGET_KIB = {"Latin": 40, "Cyrillic": 40, "Arabic": 40, "Devanagari": 40, "CJK": 150}


def copy_project(target: Path) -> Path:
    for name in ("handouts", "templates", "locales"):
        shutil.copytree(REPO / name, target / name)
    shutil.copy(REPO / "babel.cfg", target / "babel.cfg")
    return target


def run_build(root: Path, *args: str) -> tuple[float, str]:
    """Wall time of `handouts build`, and what it printed."""
    start = time.perf_counter()
    run = subprocess.run([str(BIN / "handouts"), "build", *args], cwd=root, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if run.returncode != 0:
        sys.exit(f"build failed in {root}:\n{run.stderr[-3000:]}")
    return elapsed, run.stdout + run.stderr


def run_timed_build(root: Path, *args: str) -> tuple[float, str, dict]:
    """`run_build`, with the build's own account of where the time went (`--timings`)."""
    timings = root.parent / "timings.json"
    elapsed, log = run_build(root, "--timings", str(timings), *args)
    return elapsed, log, json.loads(timings.read_text())


def rendered_count(log: str) -> int:
    match = re.search(r"(\d+) rendered", log)
    return int(match[1]) if match else 0


def longest_first(html_files: list[Path]) -> list[Path]:
    """The build's order (build.run_jobs): large print first, then the CJK locales, then the rest."""
    cjk = set(SCRIPTS["CJK"])
    return sorted(html_files, key=lambda f: (f.parent.parent.name != "html-large", f.parent.name not in cjk))


def bare_pool_seconds(root: Path, html_files: list[Path], processes: int) -> tuple[float, float]:
    """(a): WeasyPrint alone in `processes` warm processes, wall-clock (and the sum of the renders)."""
    conf = root / "build" / "fontconfig" / "fonts.conf"
    run = subprocess.run([sys.executable, str(Path(__file__).with_name("bare_pool.py")), str(conf), str(root),
                          str(processes), *map(str, longest_first(html_files))],
                         capture_output=True, text=True, check=True)
    wall, busy = map(float, run.stdout.split())
    return wall, busy


def bare_weasyprint_seconds(root: Path, html_files: list[Path]) -> float:
    """The old (a), kept for the history: WeasyPrint alone, warm, one process: the sum of each document's render time."""
    code = r"""
import sys, time, glob, os
from pathlib import Path
os.environ["FONTCONFIG_FILE"] = sys.argv[1]
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from handoutkit.render.renderer import make_url_fetcher
root = Path(sys.argv[2]); files = sys.argv[3:]
fetcher = make_url_fetcher(root / "templates"); config = FontConfiguration()
base = (root / "templates").resolve().as_uri() + "/"
HTML(string=Path(files[0]).read_text(), base_url=base, url_fetcher=fetcher).write_pdf(font_config=config, pdf_variant="pdf/ua-1")
total = 0.0
for f in files:
    start = time.perf_counter()
    HTML(string=Path(f).read_text(), base_url=base, url_fetcher=fetcher).write_pdf(font_config=config, pdf_variant="pdf/ua-1")
    total += time.perf_counter() - start
print(total)
"""
    conf = root / "build" / "fontconfig" / "fonts.conf"
    run = subprocess.run([sys.executable, "-c", code, str(conf), str(root), *map(str, html_files)],
                         capture_output=True, text=True, check=True)
    return float(run.stdout.strip().splitlines()[-1])


def naive_seconds_per_pdf(root: Path, html_files: list[Path], out: Path) -> float:
    """(c): the `weasyprint` command, once per file, on the same HTML."""
    env = {**os.environ, "FONTCONFIG_FILE": str(root / "build" / "fontconfig" / "fonts.conf")}
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    for index, html in enumerate(html_files):
        subprocess.run([str(BIN / "weasyprint"), "--quiet", "--pdf-variant", "pdf/ua-1",
                        "--base-url", str(root / "templates") + "/", str(html), str(out / f"{index}.pdf")],
                       check=True, env=env)
    return (time.perf_counter() - start) / len(html_files)


def pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M)[1])


def sizes_by_script(root: Path) -> dict[str, float]:
    """(g): the largest standard-edition PDF of each script, in KiB per 2 pages."""
    result = {}
    for script, locales in SCRIPTS.items():
        worst = 0.0
        for locale in locales:
            for pdf in (root / "build" / "pdf" / locale).glob("*.pdf"):
                worst = max(worst, pdf.stat().st_size / 1024 * 2 / max(pages(pdf), 2))
        result[script] = round(worst, 1)
    return result


def keep_pictures(handouts: Path, ids: dict[str, str]) -> None:
    """handouts/pictures.yaml for a library with other handouts: each new id (a key of `ids`) gets the
    pictures of the handout it was made from (its value); entries of handouts that are gone go."""
    path = handouts / "pictures.yaml"
    if not path.exists():
        return
    text = path.read_text("utf-8")
    head, _, tail = text.partition("\nhandouts:\n")
    lines = [line for line in tail.splitlines() if re.match(r"^  [a-z0-9-]+: ", line)]
    given = {line.split(":", 1)[0].strip(): line.split(":", 1)[1].strip() for line in lines}
    kept = [f"  {new}: {given[old]}" for new, old in ids.items() if old in given]
    path.write_text(head + "\nhandouts:\n" + ("\n".join(kept) + "\n" if kept else "  {}\n"), "utf-8")


def smoke_library(root: Path) -> Path:
    """The tiny library of `--smoke`: two handouts (acdf, which (e) edits, and warning-signs) in
    English, Spanish and Arabic, with one packet of both, so every step of the bench runs."""
    keep = ("acdf", "warning-signs")
    for path in handout_files(root / "handouts"):
        if path.stem not in keep:
            path.unlink()
    keep_pictures(root / "handouts", {h: h for h in keep})
    (root / "handouts" / "packets.yaml").write_text(
        "packets:\n  - id: acdf\n    title: \"ACDF: complete packet\"\n"
        f"    handouts: [{', '.join(keep)}]\n", "utf-8")
    clinic = root / "handouts" / "clinic.yaml"
    text, found = re.subn(r"^locales: \[.*\]$", "locales: [en, es, ar]", clinic.read_text("utf-8"), flags=re.M)
    assert found == 1, "handouts/clinic.yaml: expected one `locales: [...]` line"
    clinic.write_text(text, "utf-8")
    subprocess.run([str(BIN / "handouts"), "extract"], cwd=root, check=True, capture_output=True)
    return root


# The build's steps (`handouts build --timings`), in the order they run, as the breakdown names them.
STEPS = (("load", "load: content, approvals, fonts, POT"), ("checks", "checks: every locale, the jobs planned"),
         ("subsets", "subsets: CJK faces, fontconfig"), ("library inputs", "library targets' inputs"))
TAIL = (("packets", "packets"), ("language-assistance", "language sheet (waiting for its worker)"),
        ("catalog", "catalog page"), ("web-index", "web pages' index"), ("manifest", "manifest"),
        ("pool shutdown", "pool shutdown"))


def breakdown(clean: float, limit: float, timings: dict) -> list[tuple[str, float]]:
    """Where the clean build's time over (a) goes, phase by phase; the parts add up to (b) - (a).

    The render workers' phases are seconds of work in `processes` processes, so each counts
    as its share of the render step's wall time (work / processes)."""
    steps, work, processes = timings["steps"], timings["work"], timings["processes"]
    parts = [("start-up and exit: interpreter, imports (outside the build's steps)", clean - sum(steps.values()))]
    parts += [(label, steps.get(key, 0.0)) for key, label in STEPS]
    shares = [("render: first layouts thrown away (copyfitting)", work.get("layout thrown away", 0.0) / processes),
              ("render: tag repair (pikepdf)", work.get("tag repair", 0.0) / processes),
              ("render: HTML (Jinja)", work.get("html", 0.0) / processes)]
    parts += shares
    parts.append(("render: the rest (render step - (a) - the three above: kept layouts and write_pdf against "
                  "bare, scheduling, files)", steps.get("render", 0.0) - limit - sum(s for _, s in shares)))
    parts += [(label, steps.get(key, 0.0)) for key, label in TAIL]
    known = {key for key, _ in STEPS + TAIL} | {"render"}
    parts += [(f"{key} (a step the bench does not know yet)", seconds) for key, seconds in steps.items()
              if key not in known]
    return parts


def synthetic_library(root: Path, count: int) -> Path:
    """A library of `count` handouts made from the real ones under new ids (translations still apply)."""
    handouts = root / "handouts"
    originals = handout_files(handouts)  # the content's own rule: not clinic, shared, sources, medical words...
    (handouts / "packets.yaml").unlink(missing_ok=True)  # it names the real handouts, which are replaced
    texts = {p: p.read_text("utf-8") for p in originals}
    for p in originals:
        p.unlink()
    made_from = {}
    for index in range(count):
        source = originals[index % len(originals)]
        new_id = f"{source.stem}-{index:03d}"
        text = re.sub(r"^id: .*$", f"id: {new_id}", texts[source], count=1, flags=re.M)
        (handouts / f"{new_id}.yaml").write_text(text, "utf-8")
        made_from[new_id] = source.stem
    keep_pictures(handouts, made_from)
    subprocess.run([str(BIN / "handouts"), "extract"], cwd=root, check=True, capture_output=True)
    subprocess.run([str(BIN / "handouts"), "update"], cwd=root, check=True, capture_output=True)
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="scale to 10 and 50 handouts only")
    parser.add_argument("--no-scale", action="store_true", help="skip (h)")
    parser.add_argument("--no-server", action="store_true", help="skip (i)-(l), the front-desk server")
    parser.add_argument("--smoke", action="store_true",
                        help="every step on a tiny library, no server, no target checked (tests/test_bench.py)")
    parser.add_argument("--out", type=Path, default=REPO / "build" / "bench.json", help="where to write the report")
    args = parser.parse_args()
    if args.smoke:
        args.no_server = True
    cores = len(os.sched_getaffinity(0))
    report: dict = {"machine": {"cores": cores, "python": platform.python_version(),
                                "platform": platform.platform(), "cpu": platform.processor() or platform.machine()}}
    with tempfile.TemporaryDirectory(prefix="handoutkit-bench-") as tmp:
        root = copy_project(Path(tmp) / "project")
        if args.smoke:
            smoke_library(root)

        # (b) clean build, (f) peak memory of the build's processes.
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        # The PDF editions: what (a) renders too (the web edition is HTML, not a WeasyPrint render).
        clean, log, timings = run_timed_build(root, *PDF_EDITIONS)
        peak_mb = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
        html_files = sorted((root / "build").glob("html*/*/*.html"))
        pdf_count = len(html_files)
        if rendered_count(log) != pdf_count:
            sys.exit(f"expected {pdf_count} PDFs rendered, the build says {rendered_count(log)}:\n{log[-2000:]}")

        # (a) the limit: the same documents through bare WeasyPrint in as many warm processes as
        # the build used, wall-clock; and the old figure (one process, summed, / cores) beside it.
        processes = timings["processes"]
        limit, limit_busy = bare_pool_seconds(root, html_files, processes)
        old_limit = bare_weasyprint_seconds(root, html_files) / cores

        # (c) the naive peer, on a sample of the same documents (one per locale).
        sample = [f for f in html_files if f.parent.parent.name == "html" and f.stem == "acdf"]
        naive = naive_seconds_per_pdf(root, sample, Path(tmp) / "naive")

        # (d) no-op rebuild.
        noop, log = run_build(root, *PDF_EDITIONS)
        noop_rendered = rendered_count(log)

        # (e) one msgstr in one locale: the es title of acdf, which only acdf prints.
        po = root / "locales" / "es" / "LC_MESSAGES" / "handouts.po"
        title = read_catalog(po, "es.po", "es").get("Anterior cervical discectomy and fusion (ACDF)").string
        text = po.read_text("utf-8")
        assert f'msgstr "{title}"' in text, "the es acdf title is expected on one line"
        po.write_text(text.replace(f'msgstr "{title}"', f'msgstr "{title}."', 1), "utf-8")  # as an editor saves it
        one, log = run_build(root, *PDF_EDITIONS)
        one_rendered = re.findall(r"build/(pdf[^ ]*/[^ ]+\.pdf)", log)

        sizes = sizes_by_script(root)

    scale = {}
    counts = (2, 3) if args.smoke else () if args.no_scale else (10, 50) if args.quick else (10, 50, 200)
    for count in counts:
        with tempfile.TemporaryDirectory(prefix="handoutkit-scale-") as tmp:
            project = copy_project(Path(tmp) / "project")
            root = synthetic_library(smoke_library(project) if args.smoke else project, count)
            seconds, log = run_build(root, "--edition", "standard")
            made = rendered_count(log)
            scale[count] = {"pdfs": made, "seconds": round(seconds, 1), "per_pdf": round(seconds / made, 3)}

    per_pdf = clean / pdf_count
    parts = breakdown(clean, limit, timings)
    report.update({
        "a_limit_seconds": round(limit, 2), "a_processes": processes, "build_processes": timings["processes"],
        "a_busy_seconds": round(limit_busy, 2),  # the pool's render times summed: its scaling is busy / (wall x processes)
        "a_old_one_process_per_core_seconds": round(old_limit, 2),
        "b_clean_seconds": round(clean, 2), "b_ratio": round(clean / limit, 2), "pdfs": pdf_count,
        "b_ratio_against_old_a": round(clean / old_limit, 2),
        "b_over_a_breakdown": [{"phase": name, "seconds": round(seconds, 3),
                                "percent_of_a": round(100 * seconds / limit, 1)} for name, seconds in parts],
        "b_build_steps_seconds": {k: round(v, 3) for k, v in timings["steps"].items()},
        "b_worker_phases_seconds": {k: round(v, 3) for k, v in timings["work"].items()},
        "c_naive_seconds_per_pdf": round(naive, 3), "c_ours_seconds_per_pdf": round(per_pdf, 3),
        "c_speedup": round(naive / per_pdf, 1),
        "d_noop_seconds": round(noop, 2), "d_noop_rendered": noop_rendered,
        "e_one_msgstr_rendered": one_rendered,
        "f_peak_rss_mb": round(peak_mb, 1),
        "g_kib_per_2_pages": sizes,
        "h_scale": scale,
    })
    checks = [
        ("(b) clean build / limit", f"{report['b_ratio']}", "<= 1.25", report["b_ratio"] <= 1.25),
        ("(c) naive / ours per PDF", f"{report['c_speedup']}x", ">= 6x", report["c_speedup"] >= 6),
        ("(d) no-op rebuild", f"{noop:.2f} s, {noop_rendered} rendered", "<= 1 s, 0", noop <= 1 and noop_rendered == 0),
        ("(e) one es msgstr", f"{len(one_rendered)} rendered: {', '.join(one_rendered)}", "only es/acdf",
         sorted(one_rendered) == ["pdf-large/es/acdf.pdf", "pdf/es/acdf.pdf"]),
        ("(f) peak memory", f"{peak_mb:.0f} MB", "<= 300 MB", peak_mb <= 300),
    ] + [(f"(g) {script} KiB/2 pages", f"{kib}", f"<= {SIZE_TARGET_KIB[script]}", kib <= SIZE_TARGET_KIB[script])
         for script, kib in sizes.items() if kib or not args.smoke]
    # Growth: the largest library's time per PDF against the smallest's (fixed costs such as
    # start-up weigh more on a small library, so "flat" means "does not grow").
    growth = scale[max(scale)]["per_pdf"] / scale[min(scale)]["per_pdf"] if scale else 1
    report["h_growth"] = round(growth, 2)
    checks.append(("(h) per-PDF time growth", " / ".join(f"{n}: {s['per_pdf']} s" for n, s in scale.items()),
                   "<= 1.25x", growth <= 1.25))
    if not args.no_server:
        from bench_server import server_bench

        server_report, server_checks = server_bench(args.quick)
        report["server"] = server_report
        checks += server_checks
    report["targets"] = [{"measure": m, "value": v, "target": t, "met": ok} for m, v, t, ok in checks]

    print(f"machine: {cores} cores, Python {report['machine']['python']}, {report['machine']['platform']}"
          + (" (smoke run: a tiny library, no target checked)" if args.smoke else ""))
    print(f"(a) limit: {limit:.2f} s, bare WeasyPrint in {processes} warm processes (the build used "
          f"{timings['processes']}); the old one-process / {cores} cores figure: {old_limit:.2f} s")
    print(f"(b) clean build: {clean:.2f} s for {pdf_count} PDFs: {clean / limit:.2f} x (a) "
          f"({clean / old_limit:.2f} x the old figure)")
    print(f"where the {clean - limit:.2f} s over (a) go:")
    for name, seconds in parts:
        print(f"  {seconds:7.2f} s {100 * seconds / limit:6.1f}% of (a)  {name}")
    print(f"(c) naive weasyprint: {naive:.3f} s/PDF, ours: {per_pdf:.3f} s/PDF")
    print(f"{'measure':<28}{'value':<58}{'target':<18}met")
    for measure, value, target, ok in checks:
        print(f"{measure:<28}{value:<58}{target:<18}{'yes' if ok else 'NO'}")
    out = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    report["smoke"] = args.smoke
    atomic_write(out, (json.dumps(report, indent=1) + "\n").encode())
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
