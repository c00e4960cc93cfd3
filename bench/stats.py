"""Small statistics helpers for the benchmarks."""

from __future__ import annotations

import statistics
from collections.abc import Sequence


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def summary_us(seconds: Sequence[float]) -> dict[str, float]:
    """p50, p99 and mean of timings, in microseconds."""
    return {
        "p50_us": round(percentile(seconds, 0.50) * 1e6, 1),
        "p99_us": round(percentile(seconds, 0.99) * 1e6, 1),
        "mean_us": round(statistics.fmean(seconds) * 1e6, 1),
    }
