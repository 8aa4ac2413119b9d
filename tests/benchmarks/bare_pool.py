"""(a) of `make bench`: bare WeasyPrint on the build's own HTML documents, in a pool of warm processes.

Usage: python bare_pool.py FONTS_CONF PROJECT_ROOT PROCESSES FILE...

Each process imports WeasyPrint, makes one FontConfiguration and renders one
document of each locale (warm: every font it will need is loaded); then the clock starts, the
documents go out one at a time to whichever process is free (in the order given:
the caller puts the longest first, as the build does), and the clock stops when
the last PDF is written. No copyfitting, no tag repair, no packets: WeasyPrint alone.
Prints the wall-clock seconds, and the sum of the per-document render times.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import time
from pathlib import Path


def worker(conf: str, root: str, warm: list[str], tasks: mp.Queue, results: mp.Queue) -> None:
    os.environ["FONTCONFIG_FILE"] = conf
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    from handoutkit.render.renderer import make_url_fetcher

    templates = Path(root) / "templates"
    fetcher, config = make_url_fetcher(templates), FontConfiguration()
    base = templates.resolve().as_uri() + "/"

    def render(path: str) -> float:
        start = time.perf_counter()
        HTML(string=Path(path).read_text("utf-8"), base_url=base, url_fetcher=fetcher).write_pdf(
            font_config=config, pdf_variant="pdf/ua-1")
        return time.perf_counter() - start

    for path in warm:
        render(path)
    results.put(("ready", 0.0))
    busy = 0.0
    while (path := tasks.get()) is not None:
        busy += render(path)
    results.put(("done", busy))


def main() -> None:
    conf, root, processes, files = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
    context = mp.get_context("spawn")  # a fresh interpreter per process, as the build's pool
    tasks, results = context.Queue(), context.Queue()
    warm = list({Path(f).parent.name: f for f in files}.values())  # one document of each locale
    procs = [context.Process(target=worker, args=(conf, root, warm, tasks, results)) for _ in range(processes)]
    for proc in procs:
        proc.start()
    for _ in procs:
        assert results.get()[0] == "ready"
    start = time.perf_counter()
    for path in files:
        tasks.put(path)
    for _ in procs:
        tasks.put(None)
    busy = sum(results.get()[1] for _ in procs)
    wall = time.perf_counter() - start
    for proc in procs:
        proc.join()
    print(f"{wall} {busy}")


if __name__ == "__main__":
    main()
