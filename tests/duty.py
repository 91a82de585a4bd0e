"""Putting staff on duty at windows: only staffed windows serve (`hall.staffing = "login"`)."""

from __future__ import annotations

import time
from typing import Any

from queue_server.admin.accounts import create_token


def on_duty(hall: Any, *nos: int) -> None:
    """A live staff login session bound to each window (all windows when none are given), as
    if a staff member had just logged in there."""
    numbers = nos or tuple(w.no for w in hall.config.windows)
    now = time.time()
    hall.run_sync(
        lambda tx: [
            create_token(tx, "staff", f"值班{no}", no, kind="session", now_ts=now) for no in numbers
        ]
    )
    hall.ctx.invalidate_capacity()
