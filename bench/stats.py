"""Percentiles and small summaries of latency samples."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of already sorted values (0 for an empty list)."""
    if not sorted_values:
        return 0.0
    k = max(0, min(len(sorted_values) - 1, math.ceil(p / 100 * len(sorted_values)) - 1))
    return float(sorted_values[k])


@dataclass(frozen=True)
class Latency:
    """Latency percentiles in milliseconds over `n` samples."""

    n: int
    p50: float
    p95: float
    p99: float
    max: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Latency:
        s = sorted(seconds)
        return cls(
            len(s),
            percentile(s, 50) * 1000,
            percentile(s, 95) * 1000,
            percentile(s, 99) * 1000,
            (s[-1] * 1000) if s else 0.0,
        )

    def cells(self) -> str:
        return f"{self.p50:.1f} / {self.p95:.1f} / {self.p99:.1f}"
