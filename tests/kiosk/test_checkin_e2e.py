"""Appointment check-in through the kiosk core against the real server (a subprocess).

The server's hall clock starts on a Tuesday at 09:05 (real-time pace), so the 09:30 slot can
still be booked and is already open for check-in, while the 10:30 slot opens at 10:00.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from drivers.idcard.samples import SAMPLES
from drivers.printer import decode, open_printer
from kiosk.core.api import HttpApi
from kiosk.core.app import KioskCore
from kiosk.core.settings import KioskSettings
from tests.support import LiveServer, make_token

pytestmark = pytest.mark.e2e

START = "2026-11-17T09:05:00+08:00"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str, str]]:
    db = tmp_path_factory.mktemp("kiosk-checkin") / "hall.db"
    live = LiveServer(db, "--time-scale", "1", "--start-time", START)
    try:
        yield live, make_token(db, "kiosk"), make_token(db, "booking")
    finally:
        live.stop()


def book(server: tuple[LiveServer, str, str], id_number: str, start: str) -> dict:
    live, _, booking = server
    r = requests.post(
        f"{live.url}/api/v1/appointments",
        json={
            "service": "SW",
            "slot_start": f"2026-11-17T{start}:00+08:00",
            "id_number": id_number,
        },
        headers={"Authorization": f"Bearer {booking}"},
        timeout=10,
    )
    assert r.status_code == 201, r.text
    return r.json()


def make_core(server: tuple[LiveServer, str, str], tmp_path: Path) -> KioskCore:
    live, token, _ = server
    core = KioskCore(
        HttpApi(live.url, token),
        KioskSettings(server=live.url, token=token, outbox_path=str(tmp_path / "outbox.db")),
        printer=open_printer(f"file://{tmp_path / 'tickets.bin'}"),
    )
    assert core.syncer.step(), "the kiosk cannot reach the server"
    core.flow.refresh()
    return core


def test_check_in_by_card_prints_an_appointment_ticket_once(
    server: tuple[LiveServer, str, str], tmp_path: Path
) -> None:
    card = SAMPLES["zhangsan"]
    booking = book(server, card.id_number, "09:30")
    core = make_core(server, tmp_path)
    assert "checkin" in core.flow.screen.actions()
    core.flow.tap("checkin")
    core.flow.card(card)
    screen = core.flow.screen
    assert screen.name == "ticket", screen
    assert screen.lines[0] == "预约签到成功"
    assert any("预约" in line and "优先" in line for line in screen.lines), screen.lines
    decoded = decode((tmp_path / "tickets.bin").read_bytes())
    assert any(screen.big in line for line in decoded.text), decoded.text
    assert not any(card.id_number in line for line in decoded.text)
    # the booking is checked in on the server, tied to this ticket
    live, _, booking_token = server
    appt = requests.get(
        f"{live.url}/api/v1/appointments/{booking['id']}",
        headers={"Authorization": f"Bearer {booking_token}"},
        timeout=10,
    ).json()
    assert appt["status"] == "checked_in"
    # scanning the booking's QR code afterwards shows the same number and prints nothing
    size = (tmp_path / "tickets.bin").stat().st_size
    core.flow.tap("home")
    core.flow.tap("checkin")
    core.flow.qr(booking["qr"])
    again = core.flow.screen
    assert again.name == "ticket" and again.big == screen.big
    assert "不再重复打印" in again.notice
    assert (tmp_path / "tickets.bin").stat().st_size == size


def test_check_in_by_qr_and_the_servers_refusals(
    server: tuple[LiveServer, str, str], tmp_path: Path
) -> None:
    core = make_core(server, tmp_path)
    early = book(server, SAMPLES["lisi"].id_number, "10:30")
    core.flow.tap("checkin")
    core.flow.qr(early["qr"])
    screen = core.flow.screen
    assert screen.name == "checkin_message", screen
    assert screen.title == "还未到签到时间"
    assert "请于 10:00 后再来签到" in screen.lines[0]
    assert screen.notice.startswith("请于 10:00 后再来")
    assert "checkin" not in screen.actions()  # nothing to retry before 10:00
    # a forged check code and a person without a booking
    core.flow.tap("home")
    core.flow.tap("checkin")
    core.flow.qr(early["qr"].rsplit(":", 1)[0] + ":AAAAAAAA")
    assert core.flow.screen.title == "没有找到可签到的预约"
    core.flow.tap("checkin")  # 重新签到
    core.flow.card(SAMPLES["ouyang"])
    assert core.flow.screen.lines[0] == "您今天没有预约，请直接取号"
    # an on-time booking by QR code, with no card
    ok = book(server, SAMPLES["wangwu"].id_number, "09:30")
    core.flow.tap("home")
    core.flow.tap("checkin")
    core.flow.qr(ok["qr"])
    assert core.flow.screen.name == "ticket"
    assert core.flow.screen.lines[0] == "预约签到成功"
    assert core.outbox.pending() == []  # never a leased number
