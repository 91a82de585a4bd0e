"""LedEmulator: a bus of LED strips on a pseudo-terminal (or TCP port) that decodes frames.

    with LedEmulator(TEMPLATES["cnqs"]) as emu:
        bus = open_led_bus(emu.url, TEMPLATES["cnqs"]).start()   # serial:///dev/pts/N
        bus.show(3, "A023 请到3号窗口")
        emu.wait_for(lambda e: e.screens.get(3) == "A023 请到3号窗口")

`screens` holds what each address shows; `frames` every decoded frame; `bad_bytes` what the
decoder skipped. With `answer`, strips at `addresses` (all when None) reply with those bytes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

from drivers.emulator import LineEmulator

from .frame import FrameDecoder, LedFrame, LedTemplate


class LedEmulator(LineEmulator):
    thread_name = "led-emulator"
    raw_master = True

    def __init__(
        self,
        template: LedTemplate,
        transport: str = "pty",
        answer: bytes = b"",
        addresses: Iterable[int] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        baud: int = 9600,
    ) -> None:
        super().__init__(transport, host, port, baud)
        self.template = template
        self.answer = answer
        self.addresses = set(addresses) if addresses is not None else None
        self.decoder = FrameDecoder(template)
        self.frames: list[LedFrame] = []
        self.screens: dict[int, str] = {}
        self.bytes_in = 0
        self._lock = threading.Lock()

    @property
    def bad_bytes(self) -> int:
        return self.decoder.bad

    def wait_for(self, condition: Callable[[LedEmulator], bool], timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if condition(self):
                    return True
            time.sleep(0.01)
        return False

    def _answer(self, session: object, data: bytes) -> bytes:
        reply = b""
        with self._lock:
            self.bytes_in += len(data)
            for frame in self.decoder.feed(data):
                self.frames.append(frame)
                self.screens[frame.address] = frame.text
                if self.answer and (self.addresses is None or frame.address in self.addresses):
                    reply += self.answer
        return reply
