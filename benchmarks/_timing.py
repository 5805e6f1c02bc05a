"""The one timing rule every benchmark uses: warm up once, then the median of repeats."""

from __future__ import annotations

import statistics
import time
from typing import Callable


def median_time(fn: Callable[[], object], repeat: int) -> float:
    """Median seconds of ``repeat`` calls of ``fn``, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def medians_in_turns(fns: dict[str, Callable[[], object]], repeat: int, number: int = 1) -> dict[str, float]:
    """Median seconds per call of each of ``fns``, timed in turns (``number`` calls each).

    Taking turns exposes every contender to the same drift in machine load, so
    their ratio is steadier than when each is timed in a block of its own.
    """
    for fn in fns.values():
        for _ in range(number):
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            times[name].append((time.perf_counter() - t0) / number)
    return {name: statistics.median(ts) for name, ts in times.items()}
