"""IdCardEmulator: a scripted reader on a pseudo-terminal or a TCP port, for tests and the demo.

    with IdCardEmulator(cards=SAMPLE_CARDS, transport="pty") as emu:
        reader = open_reader(emu.url)       # serial:///dev/pts/N?baud=115200
        card = reader.read_card(timeout=2)  # the first scripted card is on the reader
        emu.remove(); emu.place()           # the next scripted card

It answers the real GA/T 467 byte protocol through SamModule, including one read per swipe.
With `swipe_gap`, a read card is taken away and the next one placed after that many seconds.
"""

from __future__ import annotations

import os
import select
import socket
import threading
import time
import tty
from collections.abc import Iterable

from .model import IdCard
from .protocol import FrameParser
from .sam import SamModule


class IdCardEmulator:
    def __init__(
        self,
        cards: Iterable[IdCard] = (),
        transport: str = "pty",
        host: str = "127.0.0.1",
        port: int = 0,
        swipe_gap: float | None = None,
        place_first: bool = True,
    ) -> None:
        if transport not in ("pty", "tcp"):
            raise ValueError("transport must be 'pty' or 'tcp'")
        self.sam = SamModule()
        self.script = list(cards)
        self.transport = transport
        self.swipe_gap = swipe_gap
        self._next = 0
        self._host, self._port = host, port
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._fds: tuple[int, int] | None = None
        self._server: socket.socket | None = None
        self.url = ""
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

    # --- lifecycle -------------------------------------------------------------------------
    def start(self) -> IdCardEmulator:
        if self.transport == "pty":
            master, slave = os.openpty()
            tty.setraw(slave)
            self._fds = (master, slave)
            self.url = f"serial://{os.ttyname(slave)}?baud=115200"
            target = self._serve_pty
        else:
            server = socket.create_server((self._host, self._port))
            server.settimeout(0.1)
            self._server = server
            host, port = server.getsockname()[:2]
            self.url = f"tcp://{host}:{port}"
            target = self._serve_tcp
        self._stop.clear()
        self._thread = threading.Thread(target=target, name="idcard-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
            self._thread = None
        if self._fds is not None:
            for fd in self._fds:
                os.close(fd)
            self._fds = None
        if self._server is not None:
            self._server.close()
            self._server = None

    def __enter__(self) -> IdCardEmulator:
        return self.start() if self._thread is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- serving ---------------------------------------------------------------------------
    def _respond(self, parser: FrameParser, data: bytes) -> bytes:
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

    def _serve_pty(self) -> None:
        assert self._fds is not None
        master = self._fds[0]
        parser = FrameParser()
        while not self._stop.is_set():
            ready, _, _ = select.select([master], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(master, 4096)
            except OSError:
                return
            reply = self._respond(parser, data)
            if reply:
                os.write(master, reply)

    def _serve_tcp(self) -> None:
        assert self._server is not None
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except (TimeoutError, OSError):
                continue
            with conn:
                conn.settimeout(0.05)
                parser = FrameParser()
                while not self._stop.is_set():
                    try:
                        data = conn.recv(4096)
                    except TimeoutError:
                        continue
                    except OSError:
                        break
                    if not data:
                        break
                    reply = self._respond(parser, data)
                    if reply:
                        conn.sendall(reply)
