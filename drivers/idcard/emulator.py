"""IdCardEmulator: a scripted reader on a pseudo-terminal or a TCP port, for tests and the demo.

    with IdCardEmulator(cards=SAMPLE_CARDS, transport="pty") as emu:
        reader = open_reader(emu.url)       # serial:///dev/pts/N?baud=115200
        card = reader.read_card(timeout=2)  # the first scripted card is on the reader
        emu.remove(); emu.place()           # the next scripted card

It answers the real GA/T 467 byte protocol through SamModule, including one read per swipe.
With `swipe_gap`, a read card is taken away and the next one placed after that many seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from drivers.emulator import LineEmulator

from .model import IdCard
from .protocol import FrameParser
from .sam import SamModule


class IdCardEmulator(LineEmulator):
    thread_name = "idcard-emulator"

    def __init__(
        self,
        cards: Iterable[IdCard] = (),
        transport: str = "pty",
        host: str = "127.0.0.1",
        port: int = 0,
        swipe_gap: float | None = None,
        place_first: bool = True,
    ) -> None:
        super().__init__(transport, host, port, baud=115200)
        self.sam = SamModule()
        self.script = list(cards)
        self.swipe_gap = swipe_gap
        self._next = 0
        if place_first and self.script:
            self.place()

    # --- card control ----------------------------------------------------------------------
    def place(self, card: IdCard | None = None) -> IdCard | None:
        """Put a card on the reader: the given one, or the next scripted card (cycling)."""
        if card is None:
            if not self.script:
                return None
            card = self.script[self._next % len(self.script)]
            self._next += 1
        self.sam.place(card)
        return card

    def remove(self) -> None:
        self.sam.remove()

    @property
    def reads(self) -> int:
        return self.sam.reads

    # --- serving ---------------------------------------------------------------------------
    def _session(self) -> FrameParser:
        return FrameParser()

    def _answer(self, parser: FrameParser, data: bytes) -> bytes:
        out = b""
        for frame in parser.feed(data):
            reads_before = self.sam.reads
            out += self.sam.handle(frame)
            if self.swipe_gap is not None and self.sam.reads > reads_before:
                timer = threading.Timer(self.swipe_gap, self._next_swipe)
                timer.daemon = True
                timer.start()
        return out

    def _next_swipe(self) -> None:
        if not self._stop.is_set():
            self.remove()
            time.sleep(min(0.5, self.swipe_gap or 0))
            self.place()
