"""The fake printer (`fake://`): keeps every byte and answers status like a real one.

Paper state is controllable: "ok", "near_end", "out", "offline", "cover_open",
and `set_connected(False)` models a pulled cable (writes fail, queries get no answer).
"""

from __future__ import annotations

from typing import Literal

from escpos.printer import Dummy

from . import commands as c

PaperState = Literal["ok", "near_end", "out", "offline", "cover_open"]

# replies to DLE EOT 1, 2, 4 per state (Epson ESC/POS real-time status bits)
REPLIES: dict[str, dict[bytes, int]] = {
    "ok": {c.STATUS_PRINTER: 0x12, c.STATUS_OFFLINE_CAUSE: 0x12, c.STATUS_PAPER: 0x12},
    "near_end": {c.STATUS_PRINTER: 0x12, c.STATUS_OFFLINE_CAUSE: 0x12, c.STATUS_PAPER: 0x1E},
    "out": {c.STATUS_PRINTER: 0x1A, c.STATUS_OFFLINE_CAUSE: 0x32, c.STATUS_PAPER: 0x7E},
    "offline": {c.STATUS_PRINTER: 0x1A, c.STATUS_OFFLINE_CAUSE: 0x12, c.STATUS_PAPER: 0x12},
    "cover_open": {c.STATUS_PRINTER: 0x1A, c.STATUS_OFFLINE_CAUSE: 0x16, c.STATUS_PAPER: 0x12},
}


class FakeTransport:
    can_query = True

    def __init__(self) -> None:
        self.dummy = Dummy()  # python-escpos's own byte collector
        self.paper: PaperState = "ok"
        self.connected = True
        self.queries: list[bytes] = []

    @property
    def output(self) -> bytes:
        return self.dummy.output

    def write(self, data: bytes) -> None:
        if not self.connected:
            raise ConnectionError("fake printer disconnected")
        self.dummy._raw(data)

    def query(self, command: bytes, timeout: float) -> int | None:
        self.queries.append(command)
        if not self.connected:
            return None
        return REPLIES[self.paper].get(command)

    def close(self) -> None:
        pass
