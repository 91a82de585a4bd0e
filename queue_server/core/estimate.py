"""Waiting-time estimate as a range (docs/DOMAIN.md, "Waiting-time estimate").

Under M/M/c with every window busy, the wait of a ticket with n people ahead is a sum of n+1
exponentials with mean 1/(c·μ): an Erlang(n+1, c·μ) variable, with mean (n+1)/(c·μ) and
coefficient of variation 1/√(n+1) (Whitt 1999). We show its 10th–90th percentile, so about
80% of tickets should be called inside the range shown. c counts the open windows serving the
service, each by its share of weight; μ is 1 / the recent mean service time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

Z90 = 1.2815515655446004  # standard normal 90th percentile


UNSTAFFED_NOTE = "暂无工作人员在岗办理此事项，等候时间按一个窗口估算，仅供参考"


@dataclass(frozen=True)
class WaitRange:
    low_min: int
    high_min: int
    # No staffed window serves the service now: the range assumes one window will.
    unstaffed: bool = False

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"low_min": self.low_min, "high_min": self.high_min}
        if self.unstaffed:
            out["unstaffed"] = True
            out["note"] = UNSTAFFED_NOTE
        return out


def erlang_quantile(k: int, rate: float, z: float) -> float:
    """Quantile of Erlang(k, rate) by the Wilson–Hilferty cube-root normal approximation."""
    if k <= 0 or rate <= 0:
        return 0.0
    a = 1.0 / (9.0 * k)
    x = k * (1.0 - a + z * math.sqrt(a)) ** 3
    return max(0.0, x) / rate


def wait_range(
    ahead: int, servers: float, service_min: float, free_servers: float = 0.0
) -> WaitRange:
    """Range of minutes until called, for a ticket with `ahead` people before it."""
    if servers <= 0:
        servers = 1.0  # nobody serves it now: assume one window opens, rather than show nothing
    if ahead < free_servers:
        return WaitRange(0, max(1, math.ceil(service_min / 4)))
    rate = servers / service_min  # completions per minute across the serving windows
    k = ahead + 1 - int(free_servers)
    low = erlang_quantile(k, rate, -Z90)
    high = erlang_quantile(k, rate, Z90)
    low_i = int(math.floor(low))
    high_i = max(low_i + 1, int(math.ceil(high)))
    return WaitRange(low_i, high_i)
