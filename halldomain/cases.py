"""The 差评 case (差评工单) as a state machine: one table of allowed transitions.

国办发〔2019〕51号 (关于建立政务服务“好差评”制度提高政务服务水平的意见): every 差评 is verified
and the citizen called back (核实/回访), the cause rectified (整改) within a local deadline, a
staff member or department may appeal a mistaken or malicious rating (申诉复核), and a case may
be handed to the 12345 hotline. Anything not in `TRANSITIONS` is refused.
"""

from __future__ import annotations

STATES = {
    "open": "待分派",
    "assigned": "待回访",
    "handed_off": "已转12345",
    "followed_up": "已回访",
    "rectified": "已整改",
    "appealed": "申诉复核中",
    "closed": "已办结",
}
ACTIONS = {
    "assign": "分派回访",
    "follow_up": "记录回访",
    "hand_off": "转12345",
    "hotline_outcome": "12345 回访结果",
    "rectify": "记录整改",
    "close": "办结",
    "appeal": "申诉",
    "uphold": "复核：申诉成立",
    "reject": "复核：申诉不成立",
}
PREVIOUS = "<previous>"  # a rejected appeal returns the case to where it was

TRANSITIONS: dict[tuple[str, str], str] = {
    ("open", "assign"): "assigned",
    ("assigned", "assign"): "assigned",  # reassign
    ("followed_up", "assign"): "followed_up",
    ("rectified", "assign"): "rectified",
    ("open", "follow_up"): "followed_up",
    ("assigned", "follow_up"): "followed_up",
    ("followed_up", "follow_up"): "followed_up",  # a second call, recorded over the first
    ("open", "hand_off"): "handed_off",
    ("assigned", "hand_off"): "handed_off",
    ("handed_off", "hotline_outcome"): "followed_up",
    ("followed_up", "rectify"): "rectified",
    ("rectified", "rectify"): "rectified",  # measures amended
    ("followed_up", "close"): "closed",  # nothing to rectify: the conclusion says why
    ("rectified", "close"): "closed",
    ("open", "appeal"): "appealed",
    ("assigned", "appeal"): "appealed",
    ("followed_up", "appeal"): "appealed",
    ("rectified", "appeal"): "appealed",
    ("appealed", "uphold"): "closed",  # the rating stays, excluded from 好评率
    ("appealed", "reject"): PREVIOUS,
}
APPEAL_KINDS = {"mistaken": "误评", "malicious": "恶意评价"}


class TransitionRefused(Exception):
    """`action` is not allowed in `state`; `str()` is a sentence for staff."""

    def __init__(self, state: str, action: str) -> None:
        self.state, self.action = state, action
        super().__init__(f"工单{STATES.get(state, state)}，不能{ACTIONS.get(action, action)}")


def next_state(state: str, action: str, previous: str | None = None) -> str:
    """The state after `action`, or TransitionRefused; `previous` is where a case stood
    before its appeal (a rejected appeal returns there)."""
    to = TRANSITIONS.get((state, action))
    if to is None:
        raise TransitionRefused(state, action)
    if to == PREVIOUS:
        if previous not in STATES or previous in ("appealed", "closed"):
            raise TransitionRefused(state, action)
        return previous
    return to


def allowed_actions(state: str) -> list[str]:
    """The actions a case in `state` accepts, in the order of ACTIONS (for the admin page)."""
    return [a for a in ACTIONS if (state, a) in TRANSITIONS]


def late(done_at: str | None, due_day: str) -> bool:
    """A step done (ISO time) on a day after its deadline (YYYY-MM-DD)."""
    return bool(done_at) and str(done_at)[:10] > due_day
