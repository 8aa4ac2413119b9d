"""`make bench` runs end to end: a smoke run on a tiny library (no timing target is checked).

The scale step (h) once copied handouts/medical-words.yaml as if it were a handout and
`handouts extract` failed, so the bench had not run for weeks without anyone noticing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from handoutkit.content.handouts import handout_files

from .conftest import copy_repo

BENCH = Path(__file__).parent / "benchmarks" / "bench.py"


@pytest.mark.slow
def test_the_bench_runs_end_to_end_on_a_tiny_library(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    run = subprocess.run([sys.executable, str(BENCH), "--smoke", "--out", str(out)],
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["smoke"] is True
    # (a) is the build's own parallelism; the old figure stays beside it.
    assert report["a_processes"] == report["build_processes"] >= 1
    assert report["a_limit_seconds"] > 0 and report["a_old_one_process_per_core_seconds"] > 0
    # The breakdown names every phase and adds up to the time over (a).
    phases = {part["phase"].split(":")[0] for part in report["b_over_a_breakdown"]}
    assert {"start-up and exit", "checks", "render", "packets", "language sheet (waiting for its worker)",
            "catalog page"} <= phases
    over = sum(part["seconds"] for part in report["b_over_a_breakdown"])
    assert over == pytest.approx(report["b_clean_seconds"] - report["a_limit_seconds"], abs=0.05)
    # Every step ran: (c)-(h) on 12 PDFs (2 handouts x 3 locales x 2 editions).
    assert report["pdfs"] == 12 and report["d_noop_rendered"] == 0
    assert sorted(report["e_one_msgstr_rendered"]) == ["pdf-large/es/acdf.pdf", "pdf/es/acdf.pdf"]
    assert set(report["h_scale"]) == {"2", "3"} and all(s["pdfs"] > 0 for s in report["h_scale"].values())
    assert "where the" in run.stdout and "render: tag repair" in run.stdout


@pytest.mark.slow  # `handouts update` of 13 PO files: about 10-20 s
def test_the_scale_step_copies_only_handouts(tmp_path: Path) -> None:
    """(h) makes its library from the files content.handouts calls handouts: the medical words,
    clinic settings, shared blocks and sources stay what they are, and `handouts extract` accepts it."""
    sys.path.insert(0, str(BENCH.parent))
    try:
        import bench
    finally:
        sys.path.remove(str(BENCH.parent))
    project = copy_repo(tmp_path)
    others = sorted(p.name for p in project.handouts_dir.glob("*.yaml") if p not in handout_files(project.handouts_dir))
    assert "medical-words.yaml" in others
    originals = [p.stem for p in handout_files(project.handouts_dir)]
    count = len(originals) + 2  # every original at least once
    bench.synthetic_library(project.root, count)  # extract failed on medical-words-NNN.yaml before
    assert [p.name for p in handout_files(project.handouts_dir)] == sorted(
        f"{originals[i % len(originals)]}-{i:03d}.yaml" for i in range(count))
    assert sorted(p.name for p in project.handouts_dir.glob("*.yaml")
                  if p not in handout_files(project.handouts_dir)) == [n for n in others if n != "packets.yaml"]


@pytest.mark.slow  # a build that renders, in its own process
def test_build_timings_name_the_steps_and_the_workers_phases(sample) -> None:
    """`handouts build --timings FILE`: what the bench's breakdown is made of."""
    out = sample.root / "timings.json"
    handouts = Path(sys.executable).with_name("handouts")
    done = subprocess.run([str(handouts), "build", "--locale", "es", "-j", "1", "--timings", str(out)],
                          cwd=sample.root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    timings = json.loads(out.read_text())
    assert timings["processes"] == 1 and timings["rendered"] > 0
    assert {"load", "checks", "subsets", "render", "catalog", "manifest"} <= set(timings["steps"])
    assert {"html", "layout", "write_pdf", "tag repair"} <= set(timings["work"])
    assert all(seconds >= 0 for seconds in [*timings["steps"].values(), *timings["work"].values()])
    # The workers' phases are part of the render step (one process here: no overlap); the layouts
    # thrown away are some of the layouts.
    work = timings["work"]
    assert sum(work.values()) - work.get("layout thrown away", 0) <= timings["steps"]["render"]
    assert work.get("layout thrown away", 0) <= work["layout"]
