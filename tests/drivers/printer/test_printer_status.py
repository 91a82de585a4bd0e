"""Status bytes, PrintResult honesty and the fake, file and TCP transports."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import replace

import pytest

from drivers.printer import FakePrinter, decode, open_printer, sample_ticket
from drivers.printer.status import decode_status


@pytest.mark.parametrize(
    ("printer", "cause", "paper", "state", "reason"),
    [
        (0x12, 0x12, 0x12, "ok", "ok"),
        (0x12, 0x12, 0x1E, "warning", "paper_near_end"),
        (0x12, 0x12, 0x12 | 0x0C, "warning", "paper_near_end"),
        (0x1A, 0x32, 0x72, "error", "paper_out"),
        (0x12, 0x12, 0x12 | 0x60, "error", "paper_out"),
        (0x1A, 0x16, 0x12, "error", "cover_open"),
        (0x1A, 0x12, 0x12, "error", "offline"),
        (None, None, None, "unknown", "no_answer"),
        (0x12, 0x12, 0xFF, "unknown", "bad_reply"),
    ],
)
def test_decode_status(printer, cause, paper, state: str, reason: str) -> None:
    health = decode_status(printer, cause, paper)
    assert (health.state, health.reason) == (state, reason)


def test_fake_prints_and_keeps_the_bytes() -> None:
    printer = open_printer("fake://")
    assert isinstance(printer, FakePrinter)
    result = printer.print_ticket(sample_ticket())
    assert result.printed and result.health.state == "ok"
    assert decode(printer.output).qr == ["https://hall.example/t/A023"]


def test_near_end_still_prints_with_a_warning() -> None:
    printer = open_printer("fake://")
    printer.set_paper("near_end")  # type: ignore[attr-defined]
    result = printer.print_ticket(sample_ticket())
    assert result.printed and result.health.reason == "paper_near_end"


@pytest.mark.parametrize("state", ["out", "offline", "cover_open"])
def test_faults_before_printing_send_nothing(state: str) -> None:
    printer = FakePrinter()
    printer.set_paper(state)  # type: ignore[arg-type]
    result = printer.print_ticket(sample_ticket())
    assert not result.printed and result.health.state == "error"
    assert result.reason == ("paper_out" if state == "out" else state)
    assert printer.output == b""


def test_paper_running_out_during_the_ticket_is_not_printed() -> None:
    printer = FakePrinter()
    write = printer.transport.write

    def write_then_run_out(data: bytes) -> None:
        write(data)
        printer.set_paper("out")

    printer.transport.write = write_then_run_out  # type: ignore[method-assign]
    result = printer.print_ticket(sample_ticket())
    assert not result.printed and result.reason == "paper_out"
    assert "缺纸" in result.health.message


def test_disconnected_printer_is_unknown_status_and_not_printed() -> None:
    printer = FakePrinter()
    printer.set_connected(False)
    assert printer.status().state == "unknown"  # no answer is never "paper OK"
    result = printer.print_ticket(sample_ticket())
    assert not result.printed and result.reason == "write_failed"


def test_file_url_appends_and_reports_unknown(tmp_path) -> None:
    path = tmp_path / "tickets.bin"
    path.write_bytes(b"")
    for number in ("A001", "A002"):
        printer = open_printer(f"file://{path}?paper=58")
        result = printer.print_ticket(replace(sample_ticket(), number=number))
        printer.close()
        assert result.printed and result.health.state == "unknown"
    decoded = decode(path.read_bytes())
    assert "A001" in decoded.text and "A002" in decoded.text and decoded.cuts == 2


class TcpPrinter:
    """A network printer on loopback: collects bytes, answers DLE EOT 4 with `paper_reply`."""

    def __init__(self, paper_reply: int | None) -> None:
        self.paper_reply = paper_reply
        self.received = bytearray()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        conn, _ = self.server.accept()
        with conn:
            while data := conn.recv(4096):
                self.received += data
                for n in data.split(b"\x10\x04")[1:]:
                    if n[:1] == b"\x04" and self.paper_reply is not None:
                        conn.sendall(bytes([self.paper_reply]))
                    elif n[:1] in (b"\x01", b"\x02") and self.paper_reply is not None:
                        conn.sendall(b"\x12")


def test_tcp_printer_status_and_ticket() -> None:
    fake = TcpPrinter(paper_reply=0x1E)
    printer = open_printer(f"tcp://127.0.0.1:{fake.port}")
    result = printer.print_ticket(sample_ticket())
    printer.close()
    assert result.printed and result.health.reason == "paper_near_end"
    assert decode(bytes(fake.received)).cuts == 1


def test_tcp_printer_that_never_answers_is_unknown_quickly() -> None:
    fake = TcpPrinter(paper_reply=None)
    printer = open_printer(f"tcp://127.0.0.1:{fake.port}")
    started = time.monotonic()
    health = printer.status()
    assert health.state == "unknown" and health.reason == "no_answer"
    assert time.monotonic() - started < 1.0
    printer.close()


def test_unreachable_tcp_printer_is_not_printed() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    printer = open_printer(f"tcp://127.0.0.1:{port}?timeout=0.5")
    result = printer.print_ticket(sample_ticket())
    assert not result.printed and result.health.state == "error"


def test_serial_printer_over_a_pseudo_terminal_reads_exactly_one_status_byte() -> None:
    import os
    import select
    import tty

    master, slave = os.openpty()
    tty.setraw(slave)
    received = bytearray()
    stop = threading.Event()

    def printer_side() -> None:  # answers DLE EOT n like a printer with paper near its end
        replies = {1: b"\x12", 2: b"\x12", 4: b"\x1e\x99"}  # a stray byte after the reply
        while not stop.is_set():
            if not select.select([master], [], [], 0.05)[0]:
                continue
            data = os.read(master, 4096)
            received.extend(data)
            for part in data.split(b"\x10\x04")[1:]:
                if part[:1]:
                    os.write(master, replies.get(part[0], b""))

    thread = threading.Thread(target=printer_side, daemon=True)
    thread.start()
    try:
        printer = open_printer(f"serial://{os.ttyname(slave)}?baud=9600&paper=58")
        result = printer.print_ticket(sample_ticket())
        printer.close()
    finally:
        stop.set()
        thread.join(1)
        os.close(master)
        os.close(slave)
    assert result.printed and result.health.reason == "paper_near_end"
    decoded = decode(bytes(received))
    assert decoded.cuts == 1 and "A023" in decoded.text
