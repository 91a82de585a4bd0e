"""The pages subscribe (common.js EVENT_TYPES) to every ticket and window event the server emits:
an EventSource ignores a type nobody listens to, so a page would miss that change."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def emitted() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "queue_server").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        found |= set(re.findall(r'emit\(\s*"((?:ticket|window)\.[a-z_]+)"', text))
        found |= set(re.findall(r'"((?:window)\.(?:paused|resumed|opened|closed))"', text))
    return found


def test_every_ticket_and_window_event_reaches_the_pages() -> None:
    common = (ROOT / "queue_server/web/common.js").read_text(encoding="utf-8")
    block = re.search(r"EVENT_TYPES = \[(.*?)\]", common, re.S)
    assert block
    listened = set(re.findall(r'"([a-z_]+\.[a-z_]+)"', block.group(1)))
    events = emitted()
    assert "ticket.renumbered" in events and "window.paused" in events
    assert events <= listened, sorted(events - listened)
