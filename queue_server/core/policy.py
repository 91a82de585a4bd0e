"""The hall's calling order in plain Chinese, for the admin page and the hall's notices."""

from __future__ import annotations

from typing import Any

from queue_server.base.config import RoutingSection


def _fmt(x: float) -> str:
    return f"{x:g}"


def explain_policy(routing: RoutingSection) -> dict[str, Any]:
    """`{"policy", "title", "text", "classes"}`: what a citizen or an inspector may read."""
    classes = routing.classes
    prio = [(code, c) for code, c in classes.items() if code != "ordinary"]
    ordinary = classes["ordinary"]
    lines: list[str] = []
    if routing.policy == "accumulating":
        title = "累积优先：优先人群先办，普通群众等得越久越靠前，不会被一直插队"
        lines.append(
            "每位等候者都有一个“排队分”，窗口空闲时叫分数最高的人。"
            f"普通号的分数等于已等候的分钟数（每分钟加 {_fmt(ordinary.rate)} 分）。"
        )
        for _code, c in prio:
            lines.append(
                f"{c.label}：取号时先加 {_fmt(c.offset)} 分，之后每分钟加 {_fmt(c.rate)} 分。"
            )
        if prio and all(c.rate == ordinary.rate for _code, c in prio):
            most = max(c.offset for _code, c in prio)
            lines.append(
                f"因此，优先人群只能排到比自己早取号不超过 {_fmt(most)} 分钟的普通群众前面；"
                f"任何普通号最多被晚到 {_fmt(most)} 分钟以内的优先号超过，不会无限等待。"
            )
        lines.append("综合窗口对不同事项有权重，权重高的事项在该窗口得分按比例放大。")
    elif routing.policy == "interleave":
        title = f"交替叫号：每叫 {routing.interleave_n} 个优先号，至少叫 1 个普通号"
        labels = "、".join(c.label for _code, c in prio)
        lines.append(
            f"优先人群（{labels}）单独排队。窗口每连续叫 {routing.interleave_n} 个优先号后，"
            "必须叫 1 个普通号；没有优先号时按取号先后叫普通号。"
        )
        lines.append("同一队列内按取号先后叫号。")
    else:
        title = "严格优先：只要有优先人群在等，就先叫优先人群"
        lines.append(
            "优先人群总是排在普通群众前面。人多时普通群众可能等候很久，本系统不建议使用此方式。"
        )
    lines.append("窗口工作人员可以看到每次叫号的原因。")
    return {
        "policy": routing.policy,
        "title": title,
        "text": "".join(lines),
        "classes": [
            {"code": code, "label": c.label, "offset": c.offset, "rate": c.rate}
            for code, c in classes.items()
        ],
    }
