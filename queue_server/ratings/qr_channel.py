"""The ticket's public page (评价二维码): what a phone that scanned the ticket's QR code sees.

The link carries the ticket's unguessable code (`tickets.code`), never its id; holding the
code is what lets the phone read the ticket's progress and, after 办结, rate it once on the
`qr` channel (POST /evaluations with `code`, no token). The view holds nothing personal: no
masked ID number or name, no phone number.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from halldomain import places, ratings
from halldomain.waits import no_wait, wait_phrase
from queue_server.core.context import HallContext
from queue_server.ratings.evaluations import SERVICE_CHANNELS

STATUS_TEXT = {
    "waiting": ("等候中", "Waiting"),
    "called": ("请到窗口办理", "Your turn"),
    "done": ("已办结", "Done"),
    "no_show": ("已过号，请到窗口咨询", "Missed: please ask at a window"),
    "cancelled": ("已取消", "Cancelled"),
    "expired": ("已过期", "Expired"),
}


def window_guide(ctx: HallContext, no: int | None) -> tuple[str, str]:
    """The way to window `no` in Chinese and English ("3楼B区12号窗口"), or ("", "")."""
    if no is None:
        return "", ""
    win = next((w for w in ctx.config.windows if w.no == no), None)
    floor, zone = (win.floor, win.zone) if win else ("", "")
    return places.window_guide(no, floor, zone), places.window_guide_en(no, floor, zone)


def status_line(view: dict[str, Any], guide: str) -> str:
    """One Chinese line for the ticket's state (the page without scripts shows it)."""
    if view["status"] == "waiting":
        est = view["wait_estimate"]
        ahead = "" if no_wait(view["ahead"]) else f"前面还有 {view['ahead']} 人，"
        return f"等候中，{ahead}{wait_phrase(view['ahead'], est['low_min'], est['high_min'])}"
    if view["status"] == "called":
        return f"请到 {guide} 办理"
    if view["status"] == "done":
        return "已办结，感谢您的耐心"
    return STATUS_TEXT.get(view["status"], (view["status"], ""))[0]


def public_view(ctx: HallContext, conn: sqlite3.Connection, row: sqlite3.Row) -> dict[str, Any]:
    """The ticket as its holder's phone sees it, the hall's rating vocabulary, and whether it
    can still be rated on the `qr` channel (done, not rated at the window or by QR yet)."""
    view = ctx.ticket_view(conn, row)
    guide, guide_en = window_guide(ctx, view["window"])
    est = view["wait_estimate"]
    zh, en = STATUS_TEXT.get(view["status"], (view["status"], view["status"]))
    marks = ",".join("?" * len(SERVICE_CHANNELS))
    rated = conn.execute(
        f"SELECT channel, level FROM evaluations WHERE ticket_id = ? AND channel IN ({marks})",
        (row["id"], *SERVICE_CHANNELS),
    ).fetchone()
    return {
        "hall": {
            "name": ctx.config.hall.name,
            "ratings": ratings.vocabulary(ctx.config.ratings.domain()),
        },
        "ticket": {
            "id": view["id"],
            "number": view["number"],
            "service": view["service"],
            "service_name": view["service_name"],
            "status": view["status"],
            "status_text": zh,
            "status_text_en": en,
            "line": status_line(view, guide),
            "ahead": view["ahead"] if view["status"] == "waiting" else 0,
            "wait_estimate": est,
            "wait_text": wait_phrase(view["ahead"], est["low_min"], est["high_min"]),
            "wait_text_en": wait_phrase(view["ahead"], est["low_min"], est["high_min"], "en"),
            "window": view["window"],
            "window_guide": guide,
            "window_guide_en": guide_en,
            "issued_at": view["issued_at"],
            "called_at": view["called_at"],
            "finished_at": view["finished_at"],
        },
        "rating": {
            "open": view["status"] == "done" and rated is None,
            "rated": rated is not None,
            "channel": rated["channel"] if rated else None,
            "level": rated["level"] if rated else None,
        },
    }
