"""Phase clock: where a process spends its time, for the bench's breakdown (`handouts build --timings`).

Each process keeps its own totals (seconds per named phase); a render worker
hands its totals back with each job (`take`), and the build adds them up. The
clock costs two `perf_counter` calls per timed call and changes no output.
"""

from __future__ import annotations

import time
from collections import Counter
from contextlib import contextmanager
from typing import Iterator

_totals: Counter[str] = Counter()


@contextmanager
def timed(phase: str) -> Iterator[None]:
    """Add the time spent in the block to `phase`."""
    start = time.perf_counter()
    try:
        yield
    finally:
        _totals[phase] += time.perf_counter() - start


def add(phase: str, seconds: float) -> None:
    _totals[phase] += seconds


def take() -> dict[str, float]:
    """This process's totals since the last `take`, and start again from zero."""
    totals = dict(_totals)
    _totals.clear()
    return totals


class Stopwatch:
    """Wall time per phase of one run (the build's own steps), apart from the process totals above."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, phase: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[phase] = self.seconds.get(phase, 0.0) + time.perf_counter() - start
