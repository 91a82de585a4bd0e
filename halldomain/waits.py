"""How a wait is worded on every screen: one rule, one wording.

Nobody ahead means "无需等候" (even though the estimate's range still covers the time a window
takes to call), so the kiosk, the hall display and the ticket pages never say "约 0–3 分钟"
for a queue that is empty. The hall display's page (queue_server/web/display.js) follows the
same rule with the same words.
"""

from __future__ import annotations

from datetime import datetime, timedelta

NO_WAIT = "无需等候"
NO_WAIT_EN = "No wait"


def no_wait(ahead: int) -> bool:
    """Whether a citizen with `ahead` people before them is told there is no wait."""
    return ahead <= 0


def wait_phrase(ahead: int, low_min: int, high_min: int, lang: str = "zh") -> str:
    """ "无需等候" with nobody ahead, else "约 12–25 分钟" ("about 12–25 min")."""
    if no_wait(ahead):
        return NO_WAIT_EN if lang == "en" else NO_WAIT
    high = max(high_min, low_min, 1)
    if lang == "en":
        return f"about {low_min}–{high} min"
    return f"约 {low_min}–{high} 分钟"


def past_closing(now: datetime, high_min: int, hours: list[str] | tuple[str, ...]) -> str:
    """The closing time ("17:30") when a wait of `high_min` from `now` runs past the end of
    the opening span `now` is in (`HH:MM-HH:MM`, local time); "" when it ends in time."""
    hm = now.strftime("%H:%M")
    for span in hours:
        start, end = span[:5], span[6:11]
        if start <= hm < end:
            h, m = int(end[:2]), int(end[3:])
            closing = now.replace(hour=h, minute=m, second=0, microsecond=0)
            return end if now + timedelta(minutes=high_min) > closing else ""
    return ""
