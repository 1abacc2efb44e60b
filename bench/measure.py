"""Small measuring helpers: percentiles and timed HTTP calls."""

import statistics
import time
from collections.abc import Callable
from typing import TypeVar

Result = TypeVar("Result")


def percentiles(samples_ms: list[float]) -> dict:
    ordered = sorted(samples_ms)

    def pick(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))], 1)

    return {
        "n": len(ordered),
        "p50_ms": pick(50),
        "p95_ms": pick(95),
        "p99_ms": pick(99),
        "mean_ms": round(statistics.fmean(ordered), 1),
    }


def timed(call: Callable[[], Result]) -> tuple[float, Result]:
    started = time.perf_counter()
    result = call()
    return (time.perf_counter() - started) * 1000, result
