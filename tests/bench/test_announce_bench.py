"""The announcement benchmark plays the real policy over the real clips: with the policy, the
last of many simultaneous calls is heard much sooner than one call per audio in full."""

from __future__ import annotations

from pathlib import Path

from bench import announce_bench
from queue_server.core import voice


def test_the_policy_cuts_the_worst_delay_and_says_every_call(tmp_path: Path) -> None:
    v = voice.Voice(cache_dir=tmp_path / "cache")
    calls = announce_bench.opening_calls(12)
    assert len({w for _, w in calls}) == 12
    before = announce_bench.simulate(v, calls, 0.2, "before", 0.1)
    now = announce_bench.simulate(v, calls, 0.2, "now", 0.1)
    assert len(before.plans) == 12  # one audio per call
    assert len(now.plans) < len(before.plans)
    assert now.worst_s < 0.75 * before.worst_s, (now, before)
    assert 0 < now.median_s <= now.worst_s <= now.drained_s
