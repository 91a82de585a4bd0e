"""What the hall publishes on its display (好差评 公开): the 好评率 of the current month and
recent 整改 results of 差评 (国办发〔2019〕51号 asks halls to publish both).

Both are off by default (`[publication]`). Nothing personal is published: no name, 工号,
ticket number, phone or comment; a 整改 result is the day it was done, the service, the
reason labels and the measures as written on the case.
"""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from typing import Any

import orjson

from queue_server.admin import stats
from queue_server.core.context import HallContext

MAX_MEASURES = 80  # characters of the measures shown on the display


def publication(ctx: HallContext, conn: sqlite3.Connection) -> dict[str, Any]:
    cfg = ctx.config.publication
    return {
        "satisfaction": month_satisfaction(ctx, conn) if cfg.show_satisfaction else None,
        "rectifications": recent_rectifications(ctx, conn) if cfg.show_rectifications else None,
    }


def month_satisfaction(ctx: HallContext, conn: sqlite3.Connection) -> dict[str, Any]:
    """好评率 (基本满意 or better / all) of the service ratings of this calendar month."""
    month = ctx.clock.business_day()[:7]
    marks = ",".join("?" * len(stats.SERVICE_CHANNELS))
    rows = conn.execute(
        f"SELECT level FROM evaluations WHERE business_day >= ? AND business_day < ?"
        f" AND channel IN ({marks})",
        (f"{month}-01", _next_month(month), *stats.SERVICE_CHANNELS),
    ).fetchall()
    n = len(rows)
    good = sum(1 for r in rows if r["level"] >= 3)
    rate = round(good / n, 4) if n else None
    return {
        "month": month,
        "ratings": n,
        "good": good,
        "rate": rate,
        "rate_pct": stats.percent(rate),
    }


def recent_rectifications(ctx: HallContext, conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """The newest 整改 results of the last `rectification_days` days, newest first."""
    cfg = ctx.config.publication
    since = date.fromisoformat(ctx.clock.business_day()) - timedelta(days=cfg.rectification_days)
    rows = conn.execute(
        "SELECT c.rectification, c.rectified_at, e.service, e.reasons FROM followup_cases c"
        " JOIN evaluations e ON e.id = c.evaluation_id"
        " WHERE c.rectified_at IS NOT NULL AND c.rectified_at >= ?"
        " AND COALESCE(c.rectification, '') != ''"
        " ORDER BY c.rectified_at DESC, c.id DESC LIMIT ?",
        (since.isoformat(), cfg.rectifications),
    ).fetchall()
    labels = {r.code: r.label for r in ctx.config.ratings.domain()}
    out = []
    for row in rows:
        svc = ctx.config.service(row["service"])
        codes = orjson.loads(row["reasons"] or "[]")
        out.append(
            {
                "day": str(row["rectified_at"])[:10],
                "service": svc.name if svc else row["service"],
                "reasons": [labels.get(c, c) for c in codes],
                "measures": str(row["rectification"])[:MAX_MEASURES],
            }
        )
    return out


def _next_month(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year + mon // 12:04d}-{mon % 12 + 1:02d}-01"
