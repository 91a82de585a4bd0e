"""The hall's runtime seams: commit listeners, housekeeping that logs what fails and goes on."""

from __future__ import annotations

import asyncio
import logging

import pytest

from queue_server.admin import accounts, retention
from queue_server.core import tickets
from queue_server.runtime import upkeep


def issue(hall) -> dict:
    req = tickets.IssueRequest(service="SW")
    return hall.run_sync(lambda tx: tickets.issue(hall.ctx, tx, req))[0]


def test_commit_listeners_hear_every_commit_in_order_and_a_failing_one_starves_none(hall, caplog):
    heard: list[tuple[str, list[str]]] = []

    def broken(events) -> None:
        raise RuntimeError("listener bug")

    hall.add_commit_listener(lambda evs: heard.append(("first", [e.type for e in evs])))
    hall.add_commit_listener(broken)
    hall.add_commit_listener(lambda evs: heard.append(("last", [e.type for e in evs])))
    with caplog.at_level(logging.ERROR, logger="hall.db"):
        issue(hall)
        issue(hall)
    assert heard == [
        ("first", ["ticket.issued"]),
        ("last", ["ticket.issued"]),
        ("first", ["ticket.issued"]),
        ("last", ["ticket.issued"]),
    ]
    failures = [r for r in caplog.records if "commit listener" in r.getMessage()]
    assert len(failures) == 2 and failures[0].exc_info is not None
    hall.run_sync(lambda tx: None)  # a commit without events tells nobody
    assert len(heard) == 4


@pytest.fixture
def revoked_session(hall):
    """A cached staff credential revoked from another process (only the table knows)."""
    token = hall.run_sync(lambda tx: accounts.create_token(tx, "staff", "s1", 1))
    principal = hall.authenticate(token)
    hall.run_sync(
        lambda tx: tx.execute(
            "UPDATE tokens SET revoked_at = ? WHERE id = ?", (tx.now_iso, principal.token_id)
        )
    )
    return principal.token_id


def test_a_failing_housekeeping_job_is_logged_and_the_others_still_run(
    hall, monkeypatch, caplog, revoked_session
):
    def purge_fails(ctx, tx):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(retention, "purge_if_due", purge_fails)
    assert revoked_session in hall.cached_token_ids()
    with caplog.at_level(logging.ERROR, logger="hall.upkeep"):
        failed = asyncio.run(upkeep.run_once(hall))
    assert failed == 1
    [record] = [r for r in caplog.records if r.name == "hall.upkeep"]
    assert "retention purge" in record.getMessage()
    assert record.exc_info is not None and "disk on fire" in str(record.exc_info[1])
    # the job after the failing one still ran: the revoked credential is gone from the cache
    assert revoked_session not in hall.cached_token_ids()


def test_the_housekeeping_loop_goes_on_after_failures(hall, monkeypatch, caplog):
    calls = {"purge": 0, "sleep": 0}

    def purge_fails(ctx, tx):
        calls["purge"] += 1
        raise RuntimeError("disk on fire")

    async def sleep(seconds: float) -> None:
        assert seconds == upkeep.EVERY_S
        calls["sleep"] += 1
        if calls["sleep"] > 3:
            raise asyncio.CancelledError

    monkeypatch.setattr(retention, "purge_if_due", purge_fails)
    with (
        caplog.at_level(logging.ERROR, logger="hall.upkeep"),
        pytest.raises(asyncio.CancelledError),
    ):
        asyncio.run(upkeep.run_forever(hall, sleep=sleep))
    assert calls["purge"] == 3  # three rounds, each failed, none stopped the loop
    assert len([r for r in caplog.records if r.name == "hall.upkeep"]) == 3


def test_start_background_runs_housekeeping_the_uploader_and_the_12345_sender_until_stopped(hall):
    async def scenario() -> list[str]:
        await hall.start_background()
        names = sorted(t.get_name() for t in hall._background)
        assert all(not t.done() for t in hall._background)
        await hall.stop_background()
        assert hall._background == []
        return names

    assert asyncio.run(scenario()) == ["hall-hotline", "hall-housekeeping", "hall-upload"]
