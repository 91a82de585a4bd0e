"""LineEmulator: the far end of a serial line for tests and demos, on a pseudo-terminal
(`serial:///dev/pts/N`) or a TCP port (`tcp://127.0.0.1:P`).

A device's emulator says what it answers: `_answer(session, data)` gets each chunk of bytes that
arrives and returns the reply to write back; `_session()` makes the state one connection keeps
(a frame parser). The loop, the pty and the socket are here once.
"""

from __future__ import annotations

import os
import select
import socket
import threading
import tty
from typing import Any, Self


class LineEmulator:
    thread_name = "emulator"
    raw_master = False  # also put the pty's master side in raw mode

    def __init__(
        self, transport: str = "pty", host: str = "127.0.0.1", port: int = 0, baud: int = 9600
    ) -> None:
        if transport not in ("pty", "tcp"):
            raise ValueError("transport must be 'pty' or 'tcp'")
        self.transport = transport
        self.baud = baud
        self._host, self._port = host, port
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._fds: tuple[int, int] | None = None
        self._server: socket.socket | None = None
        self.url = ""

    # what the device answers
    def _session(self) -> Any:
        return None

    def _answer(self, session: Any, data: bytes) -> bytes:
        raise NotImplementedError

    # lifecycle
    def start(self) -> Self:
        if self.transport == "pty":
            master, slave = os.openpty()
            if self.raw_master:
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
        self._thread = threading.Thread(target=target, name=self.thread_name, daemon=True)
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

    def __enter__(self) -> Self:
        return self.start() if self._thread is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # serving
    def _serve_pty(self) -> None:
        assert self._fds is not None
        master = self._fds[0]
        session = self._session()
        while not self._stop.is_set():
            ready, _, _ = select.select([master], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(master, 4096)
            except OSError:
                return
            reply = self._answer(session, data)
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
                session = self._session()
                while not self._stop.is_set():
                    try:
                        data = conn.recv(4096)
                    except TimeoutError:
                        continue
                    except OSError:
                        break
                    if not data:
                        break
                    reply = self._answer(session, data)
                    if reply:
                        conn.sendall(reply)
