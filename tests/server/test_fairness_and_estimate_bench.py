"""The fairness study and the wait-estimate simulation still run and still say what docs say."""

from __future__ import annotations

from bench import estimate_accuracy, fairness


def test_accumulating_priority_bounds_overtaking_better_than_strict():
    wins, mean, classes = fairness.demo_hall()
    res = {
        policy: fairness.fairness(fairness.simulate(wins, mean, classes, policy, seed=0))
        for policy in ("strict", "accumulating", "interleave")
    }
    assert res["accumulating"]["max_overtaken"] < res["strict"]["max_overtaken"]
    assert res["accumulating"]["max_ordinary_wait"] < res["strict"]["max_ordinary_wait"]
    # Priority still goes first on average, just not without bound.
    acc = res["accumulating"]
    assert acc["mean_priority_wait"] < acc["mean_ordinary_wait"]


def test_estimate_simulation_smoke():
    summary, _secs = estimate_accuracy.simulate(1, seed=5, load=0.8)
    assert summary["called"] == summary["tickets"] > 300
    assert summary["predictor"]["mae"] < summary["naive"]["mae"]
    assert summary["shown_coverage"] > 0.7
