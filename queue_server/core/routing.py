"""Who is called next at a window: pure scoring, no storage.

Accumulating priority (docs/DOMAIN.md, "Calling order"): a waiting ticket's score is

    score = weight(window, service) × (offset(class) + rate(class) × minutes_waited)

and a freed window calls the highest score among the services it serves. An ordinary ticket's
score keeps growing, so priority classes move ahead without starving it: with equal rates, a
priority ticket overtakes an ordinary one only if it was issued less than `offset` minutes
after it. `interleave` calls N priority tickets per ordinary one; `strict` always prefers the
higher class (it starves ordinary tickets; it is here so the simulation can show why not).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from queue_server.base.config import PriorityClass


@dataclass(frozen=True)
class Candidate:
    """The longest-waiting ticket of one (service, class) queue that a window may call."""

    ticket_id: int
    number: str
    service: str
    priority: str
    issued_ts: float
    weight: float
    targeted: bool = False  # transferred to this very window


@dataclass(frozen=True)
class Choice:
    candidate: Candidate
    score: float
    reason: dict[str, Any]
    priority_call: bool


def score(c: Candidate, cls: PriorityClass, now_ts: float) -> float:
    waited_min = max(0.0, (now_ts - c.issued_ts) / 60.0)
    return c.weight * (cls.offset + cls.rate * waited_min)


def choose(
    candidates: list[Candidate],
    classes: dict[str, PriorityClass],
    now_ts: float,
    policy: str = "accumulating",
    interleave_n: int = 3,
    interleave_count: int = 0,
) -> Choice | None:
    """Pick the ticket to call, with the reason staff can read; None when nobody waits."""
    if not candidates:
        return None
    ordinary = classes["ordinary"]

    def cls_of(c: Candidate) -> PriorityClass:
        return classes.get(c.priority, ordinary)

    def is_priority(c: Candidate) -> bool:
        return c.priority != "ordinary"

    scored = [(score(c, cls_of(c), now_ts), c) for c in candidates]
    # Highest score first; ties go to the earlier ticket, then the lower id (stable, explainable).
    scored.sort(key=lambda sc: (-sc[0], sc[1].issued_ts, sc[1].ticket_id))
    targeted = [sc for sc in scored if sc[1].targeted]
    rule = policy
    if targeted:
        best_score, best = targeted[0]
        rule = "targeted"
    elif policy == "strict":
        ranked = sorted(
            scored,
            key=lambda sc: (-cls_of(sc[1]).offset, sc[1].issued_ts, sc[1].ticket_id),
        )
        best_score, best = ranked[0]
    elif policy == "interleave":
        prio = [sc for sc in scored if is_priority(sc[1])]
        plain = [sc for sc in scored if not is_priority(sc[1])]
        if prio and (interleave_count < interleave_n or not plain):
            best_score, best = prio[0]
        else:
            best_score, best = (plain or scored)[0]
    else:
        best_score, best = scored[0]
    runner_up = next((sc for sc in scored if sc[1] is not best), None)
    reason = explain(best, best_score, cls_of(best), now_ts, rule, runner_up, len(candidates))
    return Choice(best, best_score, reason, is_priority(best))


def explain(
    c: Candidate,
    best_score: float,
    cls: PriorityClass,
    now_ts: float,
    rule: str,
    runner_up: tuple[float, Candidate] | None,
    n_candidates: int,
) -> dict[str, Any]:
    waited = round(max(0.0, (now_ts - c.issued_ts) / 60.0), 1)
    parts = {
        "accumulating": f"{c.number} 得分最高：权重 {c.weight:g} ×（{cls.label}加分 {cls.offset:g}"
        f" + {cls.rate:g} × 已等 {waited} 分钟）= {best_score:.1f}",
        "interleave": f"{c.number}：按“优先号与普通号交替”规则轮到{cls.label}，已等 {waited} 分钟",
        "strict": f"{c.number}：严格优先，{cls.label}排在前面，已等 {waited} 分钟",
        "targeted": f"{c.number}：由其他窗口转至本窗口，已等 {waited} 分钟",
    }
    text = parts.get(rule, parts["accumulating"])
    if runner_up is not None:
        text += f"；其次是 {runner_up[1].number}（得分 {runner_up[0]:.1f}）"
    return {
        "rule": rule,
        "score": round(best_score, 2),
        "weight": c.weight,
        "class": c.priority,
        "class_label": cls.label,
        "offset": cls.offset,
        "rate": cls.rate,
        "waited_min": waited,
        "candidates": n_candidates,
        "runner_up": (
            {"number": runner_up[1].number, "score": round(runner_up[0], 2)} if runner_up else None
        ),
        "text": text,
    }


def call_order(
    queues: list[list[Candidate]],
    classes: dict[str, PriorityClass],
    now_ts: float,
    policy: str = "accumulating",
    interleave_n: int = 3,
    interleave_count: int = 0,
    limit: int | None = None,
) -> list[Choice]:
    """The order in which a window will call its waiting tickets if nobody new arrives.

    `queues` are the window's queues, each in its own order (a (service, class) queue by
    issue time, a class of tickets transferred to this window by issue time). Each step is
    `choose` over the queues' heads, exactly what a call-next does, so the list's order is the
    order of successive call-nexts made now."""
    heads = [0] * len(queues)
    order: list[Choice] = []
    while limit is None or len(order) < limit:
        cands = [q[i] for q, i in zip(queues, heads, strict=True) if i < len(q)]
        choice = choose(cands, classes, now_ts, policy, interleave_n, interleave_count)
        if choice is None:
            break
        order.append(choice)
        for k, q in enumerate(queues):
            if heads[k] < len(q) and q[heads[k]] is choice.candidate:
                heads[k] += 1
                break
        interleave_count = interleave_count + 1 if choice.priority_call else 0
    return order
