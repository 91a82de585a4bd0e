"""The fake reader (`fake://`): the real driver talking to an in-process SamModule.

Because the bytes go through the same framing, parsing and one-read-per-swipe model as the
emulator, the kiosk's --simulate mode and its tests exercise the real driver code.
"""

from __future__ import annotations

from typing import Any

from .loopback import LoopbackPort
from .model import IdCard
from .reader import IdCardReader
from .sam import SamModule


class FakeIdCardReader(IdCardReader):
    def __init__(self, card: IdCard | None = None, **options: Any) -> None:
        self.sam = SamModule()
        self.loopback = LoopbackPort(self.sam)
        super().__init__(lambda: self.loopback, **options)  # type: ignore[arg-type]
        if card is not None:
            self.place(card)

    def place(self, card: IdCard) -> None:
        """A citizen puts a card on the reader."""
        self.sam.place(card)

    def remove(self) -> None:
        self.sam.remove()

    def set_connected(self, connected: bool) -> None:
        """Unplug (False) or plug back (True) the reader: it stops or resumes answering."""
        self.sam.silent = not connected
