"""Voice broadcasts (语音广播): sent now or on a schedule over the hall's clock, audited, events
on the stream, the audio synthesised offline and measured with soxi."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from queue_server.admin import broadcasts
from queue_server.core import voice
from queue_server.runtime import upkeep
from tests.conftest import SHANGHAI


def events(hall, kind: str = "broadcast.announced") -> list[dict]:
    import orjson

    rows = hall.db.rows("SELECT data FROM events WHERE type = ? ORDER BY id", (kind,))
    return [orjson.loads(r["data"]) for r in rows]


def audit_actions(hall) -> list[str]:
    return [r["action"] for r in hall.db.rows("SELECT action FROM audit_log ORDER BY id")]


def test_sent_now_is_an_event_with_its_audio_address_and_audited(api, hall) -> None:
    r = api.post(
        "/api/v1/admin/broadcasts", json={"text": "请保管好随身物品"}, headers=api.who("admin")
    )
    assert r.status_code == 201, r.text
    b = r.json()
    assert b["schedule"] == "now" and b["sent_count"] == 1
    [ev] = events(hall)
    assert ev["text"] == "请保管好随身物品" and ev["id"] == b["id"]
    assert ev["url"] == f"/api/v1/voice/broadcast?id={b['id']}&repeats=2"
    assert "broadcast.create" in audit_actions(hall)
    again = api.post(f"/api/v1/admin/broadcasts/{b['id']}/send", headers=api.who("admin"))
    assert again.status_code == 200 and len(events(hall)) == 2
    assert "broadcast.send" in audit_actions(hall)


def test_only_an_administrator_broadcasts_and_bad_input_is_422(api) -> None:
    url = "/api/v1/admin/broadcasts"
    assert api.post(url, json={"text": "x"}, headers=api.who("staff", 1)).status_code == 403
    assert api.post(url, json={"text": "x"}, headers=api.who("display")).status_code == 403
    admin = api.who("admin")
    for body, code in (
        ({"text": "   "}, "empty_text"),
        ({"text": "字" * 201}, "text_too_long"),
        ({"text": "下班", "schedule": "daily", "time": "25:00"}, "bad_time"),
        ({"text": "下班", "schedule": "once", "at": "明天"}, "bad_time"),
        ({"text": "下班", "schedule": "once", "at": "2020-01-01T17:00"}, "time_past"),
    ):
        r = api.post(url, json=body, headers=admin)
        assert r.status_code == 422 and r.json()["error"]["code"] == code, (body, r.text)


def run_upkeep(hall) -> None:
    asyncio.run(upkeep.run_once(hall))


def test_daily_closing_notice_is_said_once_at_its_time_on_working_days_only(
    api, hall, clock
) -> None:
    r = api.post(
        "/api/v1/admin/broadcasts",
        json={"text": "本厅将于17:00停止取号", "schedule": "daily", "time": "16:45"},
        headers=api.who("admin"),
    )
    assert r.status_code == 201 and r.json()["sent_count"] == 0
    assert events(hall) == []
    # Tuesday 2026-11-17
    clock.set(datetime(2026, 11, 17, 16, 44, 50, tzinfo=SHANGHAI))
    run_upkeep(hall)
    assert events(hall) == []
    clock.set(datetime(2026, 11, 17, 16, 45, 20, tzinfo=SHANGHAI))
    run_upkeep(hall)
    assert [e["text"] for e in events(hall)] == ["本厅将于17:00停止取号"]
    clock.advance(30)
    run_upkeep(hall)  # the next round: not twice the same day
    assert len(events(hall)) == 1
    # Saturday 2026-11-21 is not a working day; Monday 2026-11-23 is.
    clock.set(datetime(2026, 11, 21, 16, 45, 10, tzinfo=SHANGHAI))
    run_upkeep(hall)
    assert len(events(hall)) == 1
    clock.set(datetime(2026, 11, 23, 16, 45, 10, tzinfo=SHANGHAI))
    run_upkeep(hall)
    assert len(events(hall)) == 2


def test_a_scheduled_broadcast_missed_by_more_than_late_minutes_is_not_said_late(
    api, hall, clock
) -> None:
    at = clock.now() + timedelta(hours=1)
    r = api.post(
        "/api/v1/admin/broadcasts",
        json={"text": "系统将于今晚维护", "schedule": "once", "at": at.isoformat()},
        headers=api.who("admin"),
    )
    assert r.status_code == 201, r.text
    late = hall.config.broadcast.late_minutes * 60
    clock.set(at + timedelta(seconds=late + 1))  # the server was down at the time
    run_upkeep(hall)
    assert events(hall) == []
    row = dict(broadcasts.get(hall.db.reader, r.json()["id"]))
    assert broadcasts.is_due(row, at, hall.config.calendar, late)
    assert not broadcasts.is_due(row, at - timedelta(seconds=1), hall.config.calendar, late)


def test_a_one_off_is_said_once_and_a_paused_one_not_at_all(api, hall, clock) -> None:
    admin = api.who("admin")
    at = (clock.now() + timedelta(minutes=5)).replace(second=0, microsecond=0)
    once = api.post(
        "/api/v1/admin/broadcasts",
        json={"text": "请勿吸烟", "schedule": "once", "at": at.strftime("%Y-%m-%dT%H:%M")},
        headers=admin,
    ).json()
    paused = api.post(
        "/api/v1/admin/broadcasts",
        json={"text": "请排队", "schedule": "once", "at": at.isoformat()},
        headers=admin,
    ).json()
    r = api.patch(
        f"/api/v1/admin/broadcasts/{paused['id']}", json={"enabled": False}, headers=admin
    )
    assert r.status_code == 200 and r.json()["enabled"] is False
    clock.set(at + timedelta(seconds=10))
    run_upkeep(hall)
    clock.advance(30)
    run_upkeep(hall)
    assert [e["id"] for e in events(hall)] == [once["id"]]
    assert api.delete(f"/api/v1/admin/broadcasts/{once['id']}", headers=admin).status_code == 200
    listed = api.get("/api/v1/admin/broadcasts", headers=admin).json()
    assert [b["id"] for b in listed] == [paused["id"]]
    assert "broadcast.delete" in audit_actions(hall) and "broadcast.enable" in audit_actions(hall)


def test_clock_times_are_read_as_chinese_say_them() -> None:
    assert voice.speech_text("本厅将于17:00停止取号") == "本厅将于17点停止取号"
    assert voice.speech_text("8:30开始") == "8点30分开始"
    assert voice.speech_text("电话 12345") == "电话 12345"


needs_sox = pytest.mark.skipif(
    not (shutil.which("espeak-ng") and shutil.which("soxi")), reason="espeak-ng and sox needed"
)


@needs_sox
def test_broadcast_audio_is_a_wav_said_twice_measured_with_soxi(api, hall, tmp_path: Path) -> None:
    b = api.post(
        "/api/v1/admin/broadcasts", json={"text": "请保管好随身物品"}, headers=api.who("admin")
    ).json()
    display = api.who("display")
    once = api.get(f"/api/v1/voice/broadcast?id={b['id']}&repeats=1", headers=display)
    twice = api.get(f"/api/v1/voice/broadcast?id={b['id']}&repeats=2", headers=display)
    assert once.status_code == 200 and once.headers["content-type"] == "audio/wav"

    def seconds(data: bytes, name: str) -> float:
        path = tmp_path / name
        path.write_bytes(data)
        out = subprocess.run(["soxi", "-D", str(path)], capture_output=True, text=True, check=True)
        return float(out.stdout)

    one, two = seconds(once.content, "once.wav"), seconds(twice.content, "twice.wav")
    # eight syllables trimmed of espeak's padding: about 2 s, never the 4 s untrimmed
    assert 1.0 < one < 3.5, one
    assert two == pytest.approx(
        2 * one - voice.LEAD_S - voice.TAIL_S + voice.SPEECH_GAP_S, abs=0.01
    )
    missing = api.get("/api/v1/voice/broadcast?id=999", headers=display)
    assert missing.status_code == 404
