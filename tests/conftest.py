"""Shared fixtures: a fresh hall per test on a fixed clock, an in-process API client, tokens."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Tuesday morning inside opening hours.
DAY_START = datetime(2026, 11, 17, 9, 0, tzinfo=SHANGHAI)

# Valid GB 11643 numbers (check characters computed), fictitious people.
ID_YOUNG = "110105199003071239"  # born 1990-03-07
ID_ELDERLY = "11010519491231002X"  # born 1949-12-31
ID_OTHER = "44010219850101001X"


@pytest.fixture
def clock():
    from queue_server.base.clock import FixedClock

    return FixedClock(DAY_START)


@pytest.fixture
def hall(tmp_path: Path, clock) -> Iterator:
    from queue_server.runtime.hall import Hall

    h = Hall(tmp_path / "hall.db", clock=clock)
    yield h
    h.close()


@pytest.fixture
def make_token(hall):
    from queue_server.admin.accounts import create_token

    def make(role: str, window: int | None = None, name: str | None = None) -> str:
        return hall.run_sync(lambda tx: create_token(tx, role, name or f"{role}-{window}", window))

    return make


@pytest.fixture
def api(hall, make_token) -> Iterator:
    """An in-process client (httpx over ASGI via Starlette's TestClient) with role helpers."""
    from fastapi.testclient import TestClient

    from queue_server.api import create_app

    with TestClient(create_app(hall), raise_server_exceptions=False) as client:
        client.tokens = {}  # type: ignore[attr-defined]

        def as_role(role: str, window: int | None = None) -> dict[str, str]:
            key = f"{role}:{window}"
            if key not in client.tokens:  # type: ignore[attr-defined]
                client.tokens[key] = make_token(role, window)  # type: ignore[attr-defined]
            return {"Authorization": f"Bearer {client.tokens[key]}"}  # type: ignore[attr-defined]

        client.who = as_role  # type: ignore[attr-defined]
        yield client
