"""The bus writer: one thread owns the RS-485 port; callers only drop text in a bounded queue.

`show(address, text)` never blocks and never raises for the bus: when the bus is behind (9600
baud is ~40 short frames a second), a newer text for an address replaces the one still waiting,
and when more addresses wait than the queue holds, the oldest waiting one is dropped (counted).
A write error or a strip that does not answer marks the bus's health; the text is kept and
sent again when the port comes back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from drivers.base import Health, Worker

from .fake import FakeLedPort
from .frame import LedTemplate, encode_frame

log = logging.getLogger(__name__)
DEFAULT_BAUD = 9600


class LedBus(Worker):
    thread_name = "led-bus"

    def __init__(
        self,
        open_port: Callable[[], Any],
        template: LedTemplate,
        queue_size: int = 256,
        answer_timeout: float = 0.0,
        reopen_after: float = 1.0,
    ) -> None:
        super().__init__()
        self._open_port = open_port
        self.template = template
        self.queue_size = queue_size
        self.answer_timeout = answer_timeout
        self.reopen_after = reopen_after
        self._pending: OrderedDict[int, str] = OrderedDict()
        self._cond = threading.Condition()
        self._port: Any = None
        self._health = Health("unknown", "not_started", "条屏总线尚未启动")
        self.sent = 0  # frames written
        self.replaced = 0  # texts overtaken by a newer one for the same address
        self.dropped = 0  # texts dropped because the queue was full
        self.no_answer: dict[int, int] = {}  # address -> consecutive frames without an answer
        self.last_text: dict[int, str] = {}  # address -> text last written
        self._busy = False
        self.port_for_tests: FakeLedPort | None = None

    # --- callers -------------------------------------------------------------------------
    def show(self, address: int, text: str) -> None:
        """Queue `text` for the strip at `address`; returns at once."""
        if not 0 <= address <= 255:
            raise ValueError(f"LED address {address} is not 0–255")
        with self._cond:
            if address in self._pending:
                self.replaced += 1
                self._pending[address] = text
            else:
                if len(self._pending) >= self.queue_size:
                    self._pending.popitem(last=False)
                    self.dropped += 1
                self._pending[address] = text
            self._cond.notify()

    @property
    def waiting(self) -> int:
        with self._cond:
            return len(self._pending)

    def health(self) -> Health:
        return self._health

    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is queued (for tests and the CLI); True when idle."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._cond:
                if not self._pending and not self._busy:
                    return True
            time.sleep(0.01)
        return False

    def stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        super().stop()
        self._close_port()

    close = stop

    # --- the bus thread ------------------------------------------------------------------
    def _take(self) -> tuple[int, str] | None:
        with self._cond:
            while not self._pending and not self._stop.is_set():
                self._cond.wait(0.5)
            if self._stop.is_set():
                return None
            self._busy = True
            return self._pending.popitem(last=False)

    def _requeue(self, address: int, text: str) -> None:
        """Put a text that did not go out back at the front, unless a newer one waits."""
        with self._cond:
            if address not in self._pending:
                self._pending[address] = text
                self._pending.move_to_end(address, last=False)

    def _run(self) -> None:
        if self._port is None and self._open():
            self._health = Health("ok", "", "条屏总线已连接")
        while not self._stop.is_set():
            item = self._take()
            if item is None:
                return
            address, text = item
            try:
                self._send(address, text)
            finally:
                self._busy = False

    def _send(self, address: int, text: str) -> None:
        try:
            frame = encode_frame(self.template, address, text)
        except (ValueError, UnicodeError) as e:
            log.warning("LED text for address %d not sendable: %s", address, e)
            self._health = Health("warning", "bad_text", f"{address} 号条屏的文字无法发送")
            return
        if self._port is None and not self._open():
            self._requeue(address, text)
            self._stop.wait(self.reopen_after)
            return
        try:
            if self.answer_timeout > 0 and hasattr(self._port, "reset_input_buffer"):
                self._port.reset_input_buffer()  # an old answer must not count for this frame
            self._port.write(frame)
            flush = getattr(self._port, "flush", None)
            if flush is not None:
                flush()
        except Exception as e:  # a serial port raises SerialException or OSError
            log.warning("LED bus write failed: %s", e)
            self._health = Health("error", "write_error", f"条屏总线写入失败：{e}")
            self._close_port()
            self._requeue(address, text)
            self._stop.wait(self.reopen_after)
            return
        self.sent += 1
        self.last_text[address] = text
        if self.answer_timeout > 0:
            self._check_answer(address)
        else:
            self._health = Health("ok", "", "正常")

    def _check_answer(self, address: int) -> None:
        # Wait for the first byte only (read(64) would wait out the whole timeout on every
        # frame), then take what else has arrived.
        answer = b""
        try:
            self._port.timeout = self.answer_timeout
            answer = self._port.read(1) or b""
            waiting = getattr(self._port, "in_waiting", 0)
            if answer and waiting:
                answer += self._port.read(waiting)
        except Exception as e:
            log.warning("LED bus read failed: %s", e)
        if answer:
            self.no_answer.pop(address, None)
        else:
            self.no_answer[address] = self.no_answer.get(address, 0) + 1
        silent = sorted(a for a, n in self.no_answer.items() if n >= 2)
        if silent:
            listed = "、".join(str(a) for a in silent[:8])
            self._health = Health("error", "no_answer", f"条屏无应答（地址 {listed}）")
        else:
            self._health = Health("ok", "", "正常")

    def _open(self) -> bool:
        try:
            self._port = self._open_port()
        except Exception as e:
            self._port = None
            self._health = Health("error", "port_unavailable", f"条屏串口无法打开：{e}")
            return False
        return True

    def _close_port(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            try:
                port.close()
            except Exception:
                pass


def open_led_bus(url: str, template: LedTemplate, **options: Any) -> LedBus:
    """A bus writer for a device URL: serial:///dev/ttyUSB0?baud=9600[&rs485=1], tcp://HOST:PORT
    (a serial server), fake:// (keeps frames in `bus.port_for_tests`)."""
    from drivers.urls import parse_device_url, pyserial_target

    parsed = parse_device_url(url)
    if parsed.scheme == "fake":
        fake = FakeLedPort(
            delay=parsed.param_float("delay", 0.0),
            fail=parsed.params.get("fail", "") in ("1", "true"),
            answer=bytes.fromhex(parsed.params.get("answer", "")),
        )
        bus = LedBus(lambda: fake, template, **options)
        bus.port_for_tests = fake
        return bus
    target, baud = pyserial_target(url, DEFAULT_BAUD)
    rs485 = parsed.params.get("rs485", "") in ("1", "true")

    def open_port() -> Any:
        import serial

        port = serial.serial_for_url(target, baudrate=baud, timeout=0.2, write_timeout=2.0)
        if rs485:
            from serial.rs485 import RS485Settings

            port.rs485_mode = RS485Settings()
        return port

    return LedBus(open_port, template, **options)
