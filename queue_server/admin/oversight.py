"""效能监察 live floor: every window's state, every service's queue, and alerts.

A window counts as open only while it is staffed: open, with a staff member on duty there
(HallContext.on_duty; `hall.staffing`). An open window with nobody logged in keeps its
`status` but has `staffed: false`, and serves nobody. An alert is raised when a service has more than
`[oversight].per_window_alert` people waiting per staffed open window serving it (one hall uses >10 to trigger cross-window service), or
when its predicted wait passes `[oversight].wait_alert_min`; it suggests the closed or
paused windows (tidal windows first) that could serve the queue. `case_alerts` lists the 差评
cases past their 回访 or 整改 deadline (queue_server.ratings.followup).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from queue_server.core.context import HallContext
from queue_server.ratings import followup

KIND_LABELS = {"comprehensive": "综合窗口", "dedicated": "专窗", "tidal": "潮汐窗口"}


def _minutes(now: float, ts: float | None) -> float | None:
    return None if ts is None else round(max(0.0, now - ts) / 60.0, 1)


def floor(ctx: HallContext, conn: sqlite3.Connection) -> dict[str, Any]:
    now = ctx.clock.timestamp()
    today = ctx.clock.business_day(now)
    status = {r["no"]: r for r in conn.execute("SELECT * FROM windows").fetchall()}
    states = ctx.window_states(conn)
    current = {
        r["window"]: r
        for r in conn.execute(
            "SELECT window, number, service, called_ts, called_at FROM tickets"
            " WHERE status = 'called'"
        ).fetchall()
    }
    last_done = dict(
        conn.execute(
            "SELECT window, MAX(COALESCE(finished_ts, skipped_ts, called_ts)) FROM tickets"
            " WHERE business_day = ? AND window IS NOT NULL GROUP BY window",
            (today,),
        ).fetchall()
    )
    served_today = dict(
        conn.execute(
            "SELECT window, COUNT(*) FROM tickets WHERE business_day = ? AND status = 'done'"
            " GROUP BY window",
            (today,),
        ).fetchall()
    )
    windows: list[dict[str, Any]] = []
    for w in ctx.config.windows:
        row = status.get(w.no)
        st = row["status"] if row else "closed"
        staffed = states.get(w.no) in ("open", "paused")
        since_ts = ctx.clock.parse_iso(row["status_since"]) if row else None
        cur = current.get(w.no)
        idle_since = None
        if st == "open" and cur is None:
            candidates = [t for t in (since_ts, last_done.get(w.no)) if t is not None]
            idle_since = max(candidates) if candidates else None
        windows.append(
            {
                "no": w.no,
                "name": w.name,
                "kind": w.kind,
                "kind_label": KIND_LABELS[w.kind],
                "services": list(w.services),
                "status": st,
                "staffed": staffed,  # open or paused with a staff member on duty
                "status_since": row["status_since"] if row else None,
                "staff": row["staff"] if row else None,
                "serving": (
                    {
                        "number": cur["number"],
                        "service": cur["service"],
                        "called_at": cur["called_at"],
                        "minutes": _minutes(now, cur["called_ts"]),
                    }
                    if cur
                    else None
                ),
                "idle_since": ctx.clock.iso(idle_since) if idle_since else None,
                "idle_min": _minutes(now, idle_since),
                "served_today": int(served_today.get(w.no, 0)),
            }
        )
    queues = {
        r["service"]: r
        for r in conn.execute(
            "SELECT service, COUNT(*) AS n, MIN(issued_ts) AS oldest FROM tickets"
            " WHERE status = 'waiting' GROUP BY service"
        ).fetchall()
    }
    cfg = ctx.config.oversight
    services = []
    alerts = []
    for svc in ctx.config.services:
        q = queues.get(svc.code)
        waiting = int(q["n"]) if q else 0
        serving_windows = [w for w in windows if svc.code in w["services"]]
        open_windows = [w["no"] for w in serving_windows if w["status"] == "open" and w["staffed"]]
        est = ctx.estimate(conn, svc.code, waiting).as_dict()
        per_window = round(waiting / len(open_windows), 1) if open_windows else None
        item = {
            "code": svc.code,
            "name": svc.name,
            "waiting": waiting,
            "longest_wait_min": _minutes(now, q["oldest"]) if q else None,
            "open_windows": open_windows,
            "per_window": per_window,
            "wait_estimate": est,
        }
        services.append(item)
        reasons = []
        if waiting and not open_windows:
            reasons.append(f"有 {waiting} 人等候但没有在岗办理的窗口")
        elif per_window is not None and per_window > cfg.per_window_alert:
            reasons.append(f"每个开放窗口 {per_window} 人等候（阈值 {cfg.per_window_alert:g}）")
        if waiting and est["high_min"] > cfg.wait_alert_min:
            reasons.append(f"预计等候最长 {est['high_min']} 分钟（阈值 {cfg.wait_alert_min}）")
        if reasons:
            alerts.append(_alert(svc.code, svc.name, reasons, windows))
    return {
        "now": ctx.clock.iso(now),
        "business_day": today,
        "windows": windows,
        "services": services,
        "alerts": alerts,
        "case_alerts": case_alerts(ctx, conn),  # 差评 cases past a deadline
        "open_windows": sum(1 for w in windows if w["status"] == "open" and w["staffed"]),
        "thresholds": {"per_window": cfg.per_window_alert, "wait_min": cfg.wait_alert_min},
    }


def _alert(
    code: str, name: str, reasons: list[str], windows: list[dict[str, Any]]
) -> dict[str, Any]:
    """An alert with the windows to open: closed, paused or unstaffed ones serving the service
    (tidal first); failing those, tidal windows that would first need the service added."""
    spare = [w for w in windows if w["status"] != "open" or not w["staffed"]]
    serving = sorted(
        (w for w in spare if code in w["services"]), key=lambda w: (w["kind"] != "tidal", w["no"])
    )
    if serving:
        suggest = [
            {"no": w["no"], "kind": w["kind"], "serves": True, "unstaffed": w["status"] == "open"}
            for w in serving[:3]
        ]
        to_open = [w for w in suggest if not w["unstaffed"]]
        to_staff = [w for w in suggest if w["unstaffed"]]
        parts = []
        if to_open:
            parts.append("建议开启 " + "、".join(f"{w['no']} 号" for w in to_open) + "窗口")
        if to_staff:
            names = "、".join(f"{w['no']} 号" for w in to_staff)
            parts.append(f"安排工作人员到 {names}窗口登录办理")
        advice = "，或".join(parts) if len(parts) == 2 else parts[0]
    else:
        tidal = [w for w in spare if w["kind"] == "tidal"][:3]
        suggest = [
            {"no": w["no"], "kind": w["kind"], "serves": False, "unstaffed": w["status"] == "open"}
            for w in tidal
        ]
        advice = (
            "建议在窗口管理中为 " + "、".join(f"{w['no']} 号" for w in suggest)
            + "潮汐窗口加入该事项并开启"
            if suggest
            else "建议增开潮汐窗口"
        )  # fmt: skip
    return {
        "service": code,
        "service_name": name,
        "reasons": reasons,
        "suggest_windows": suggest,
        "text": f"“{name}”" + "；".join(reasons) + "。" + advice,
    }


def case_alerts(ctx: HallContext, conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Alerts for open 差评 cases past their 回访 or 整改 deadline (queue_server.ratings.followup)."""
    alerts = []
    for v in followup.list_cases(ctx, conn, overdue=True):
        late = [
            f"回访超期（期限 {v['followup_due_day']}）" if v["followup_overdue"] else "",
            f"整改超期（期限 {v['due_day']}）" if v["rectify_overdue"] else "",
        ]
        what = "，".join(x for x in late if x)
        window = f"{v['window']} 号窗口" if v["window"] else "窗口未知"
        alerts.append(
            {
                "case_id": v["id"],
                "ticket_number": v["ticket_number"],
                "window": v["window"],
                "followup_overdue": v["followup_overdue"],
                "rectify_overdue": v["rectify_overdue"],
                "text": f"差评工单 #{v['id']}（{v['ticket_number']}，{window}，{v['status_label']}）{what}",
            }
        )
    return alerts
