"""智能引导 at the kiosk: the ticket screen and the printed ticket say where the service is
handled (from the windows' floor and zone in the hall file, as GET /services gives it)."""

from __future__ import annotations

from datetime import datetime

from drivers.printer import TicketPrint, decode, render_ticket
from tests.kiosk.conftest import Rig


def test_the_ticket_screen_and_the_printed_ticket_say_where_to_go(rig: Rig) -> None:
    assert rig.tap("service:SW")
    screen = rig.flow.screen
    assert screen.name == "ticket"
    assert "办理地点：1楼B区、3楼A区" in screen.lines
    assert rig.printer.printed[0].location == "1楼B区、3楼A区"


def test_the_printed_ticket_carries_the_location_line() -> None:
    ticket = TicketPrint(
        hall="大厅", service_name="税务业务", number="D001", ahead=0, wait_low_min=0,
        wait_high_min=0, issued_at=datetime(2026, 11, 30, 9, 0), qr="https://h/t/x",
        location="1楼B区11–13号窗口",
    )  # fmt: skip
    text = "\n".join(decode(render_ticket(ticket)).text)
    assert "办理地点：1楼B区11–13号窗口" in text
    plain = render_ticket(TicketPrint("大厅", "税务业务", "D001", 0, 0, 0, ticket.issued_at, "x"))
    assert "办理地点" not in "\n".join(decode(plain).text)


def test_a_called_ticket_found_at_the_kiosk_names_the_place(rig: Rig) -> None:
    from kiosk.core.lookup import Lookup

    found = Lookup(None, None, rig.flow.state)._found(  # type: ignore[arg-type]
        {"number": "D001", "service": "SW", "status": "called", "window": 11,
         "window_guide": "1楼B区11号窗口"}
    )  # fmt: skip
    rig.flow.ctx["found"] = [found]
    tile = rig.flow._screen_lookup_result().tiles[0]
    assert "已叫号，请到 1楼B区11号窗口" in tile.lines
