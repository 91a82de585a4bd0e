"""LedEmulator: a bus of LED strips on a pseudo-terminal (or TCP port) that decodes frames.

    with LedEmulator(TEMPLATES["cnqs"]) as emu:
        bus = open_led_bus(emu.url, TEMPLATES["cnqs"]).start()   # serial:///dev/pts/N
        bus.show(3, "A023 请到3号窗口")
        emu.wait_for(lambda e: e.screens.get(3) == "A023 请到3号窗口")

`screens` holds what each address shows; `frames` every decoded frame; `bad_bytes` what the
decoder skipped. With `answer`, strips at `addresses` (all when None) reply with those bytes.
"""

from __future__ import annotations

import os
import select
import socket
import threading
import time
import tty
from collections.abc import Callable, Iterable

from .frame import FrameDecoder, LedFrame, LedTemplate


class LedEmulator:
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
        if transport not in ("pty", "tcp"):
            raise ValueError("transport must be 'pty' or 'tcp'")
        self.template = template
        self.transport = transport
        self.answer = answer
        self.addresses = set(addresses) if addresses is not None else None
        self.baud = baud
        self.decoder = FrameDecoder(template)
        self.frames: list[LedFrame] = []
        self.screens: dict[int, str] = {}
        self.bytes_in = 0
        self._lock = threading.Lock()
        self._host, self._port = host, port
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._fds: tuple[int, int] | None = None
        self._server: socket.socket | None = None
        self.url = ""

    @property
    def bad_bytes(self) -> int:
        return self.decoder.bad

    def start(self) -> LedEmulator:
        if self.transport == "pty":
            master, slave = os.openpty()
            tty.setraw(master)
            tty.setraw(slave)
            self._fds = (master, slave)
            self.url = f"serial://{os.ttyname(slave)}?baud={self.baud}"
            target = self._serve_pty
        else:
            server = socket.create_server((self._host, self._port))
            server.settimeout(0.1)
            self._server = server
            host, port = server.getsockname()[:2]
            self.url = f"tcp://{host}:{port}"
            target = self._serve_tcp
        self._stop.clear()
        self._thread = threading.Thread(target=target, name="led-emulator", daemon=True)
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

    def __enter__(self) -> LedEmulator:
        return self.start() if self._thread is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_for(self, condition: Callable[[LedEmulator], bool], timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if condition(self):
                    return True
            time.sleep(0.01)
        return False

    def _receive(self, data: bytes) -> bytes:
        reply = b""
        with self._lock:
            self.bytes_in += len(data)
            for frame in self.decoder.feed(data):
                self.frames.append(frame)
                self.screens[frame.address] = frame.text
                if self.answer and (self.addresses is None or frame.address in self.addresses):
                    reply += self.answer
        return reply

    def _serve_pty(self) -> None:
        assert self._fds is not None
        master = self._fds[0]
        while not self._stop.is_set():
            ready, _, _ = select.select([master], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(master, 4096)
            except OSError:
                return
            reply = self._receive(data)
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
                while not self._stop.is_set():
                    try:
                        data = conn.recv(4096)
                    except TimeoutError:
                        continue
                    except OSError:
                        break
                    if not data:
                        break
                    reply = self._receive(data)
                    if reply:
                        conn.sendall(reply)
