"""Several caller and evaluator keypads on ONE shared RS-485 bus (addressed CNQS frames).

Halls wire all the keypads of a row of windows to one RS-485 pair and one USB adapter: only
one process may open that port. `KeypadBus` owns it: one reader thread splits the byte stream
into frames (drivers/evaluator/frame.py) and hands each to the handler attached for its
address (frames for an address nobody attached are counted, `unrouted`, and dropped); one
writer thread sends the LED texts of every keypad, one frame after another, so frames of two
keypads never interleave on the half-duplex line and a slow line never blocks a bridge.

A bridge attaches with `bus.attach(addr, on_event)` and gets a `BusPort`: the keypad driver's
small interface (`show`, `health`, `start`, `stop`) for that one address. Handlers run on the
reader thread: they must only queue the event (the bridges do).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from drivers.base import Health, SerialWorker, Worker
from drivers.caller.emulator import CallerEmulator
from drivers.caller.frame import KEYS, Press
from drivers.evaluator.frame import (
    FUNC_DISPLAY,
    FUNC_REASON,
    CnqsCodec,
    KeypadEvent,
    KeypadFrame,
    encode_display,
    encode_frame,
)
from drivers.urls import parse_device_url, pyserial_target

log = logging.getLogger(__name__)
DEFAULT_BAUD = 9600
_KEY_OF_FUNC = {func: key for key, func in KEYS.items()}

Handler = Callable[[KeypadEvent], None]


def as_press(event: KeypadEvent) -> Press | None:
    """A caller keypad's key press, if the frame is one."""
    if isinstance(event, KeypadFrame) and event.func in _KEY_OF_FUNC and not event.data:
        return Press(event.addr, _KEY_OF_FUNC[event.func])
    return None


class BusPort:
    """One keypad's view of the shared bus: what a bridge needs of its keypad driver."""

    def __init__(self, bus: KeypadBus, addr: int) -> None:
        self.bus = bus
        self.addr = addr

    def show(self, addr: int, text: str) -> bool:
        return self.bus.show(addr, text)

    def health(self) -> Health:
        return self.bus.health()

    def start(self) -> BusPort:
        return self  # the bus is started by its owner, once for every keypad

    def stop(self) -> None:
        self.bus.detach(self.addr)


class KeypadBus(SerialWorker):
    thread_name = "keypad-bus"
    label = "按键总线"

    def __init__(self, open_port: Callable[[], Any], reopen_after: float = 1.0) -> None:
        super().__init__(open_port, reopen_after)
        self.codec = CnqsCodec()
        self._handlers: dict[int, Handler] = {}
        self._lock = threading.Lock()
        self.unrouted = 0
        self.routed = 0
        self.writer = _Writer(self)

    # -- routing -----------------------------------------------------------------------------
    def attach(self, addr: int, on_event: Handler) -> BusPort:
        """Route the frames of `addr` to `on_event`; one handler per address (ValueError)."""
        if not 0 <= addr <= 255:
            raise ValueError(f"bus address must be 0..255, not {addr}")
        with self._lock:
            if addr in self._handlers:
                raise ValueError(f"two keypads on bus address {addr}")
            self._handlers[addr] = on_event
        return BusPort(self, addr)

    def detach(self, addr: int) -> None:
        with self._lock:
            self._handlers.pop(addr, None)

    @property
    def addresses(self) -> list[int]:
        with self._lock:
            return sorted(self._handlers)

    def feed(self, data: bytes) -> list[KeypadEvent]:
        """Decode bytes and hand each frame to its address's handler (the reader thread)."""
        events = self.codec.feed(data)
        for event in events:
            if isinstance(event, KeypadFrame) and event.func == FUNC_DISPLAY:
                continue  # our own LED text, echoed by a two-wire adapter
            with self._lock:
                handler = self._handlers.get(event.addr)
            if handler is None:
                self.unrouted += 1
                continue
            self.routed += 1
            try:
                handler(event)
            except Exception:  # one bridge's bug must not deafen the others
                log.exception("keypad bus handler for address %s failed", event.addr)
        return events

    # -- the one writer ----------------------------------------------------------------------
    def show(self, addr: int, text: str) -> bool:
        """Queue `text` for the LED at `addr`; False when the port is not open (the bridge
        shows it again once it is)."""
        if self._port is None:
            return False
        self.writer.frames.put(encode_display(addr, text))
        return True

    def start(self) -> KeypadBus:
        super().start()
        self.writer.start()
        return self

    def stop(self) -> None:
        self.writer.stop()
        super().stop()


class _Writer(Worker):
    """Sends queued frames in order, one at a time, on the bus's port."""

    thread_name = "keypad-bus-writer"
    stop_timeout = 0.5

    def __init__(self, bus: KeypadBus) -> None:
        super().__init__()
        self.bus = bus
        self.frames: queue.Queue[bytes] = queue.Queue()
        self.written = 0
        self.lost = 0

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                frame = self.frames.get(timeout=0.1)
            except queue.Empty:
                continue
            if SerialWorker.write(self.bus, frame):
                self.written += 1
            else:
                self.lost += 1


def open_bus(url: str) -> KeypadBus:
    """The keypad bus at a device URL (serial:///dev/ttyUSB0?baud=9600, tcp://HOST:PORT)."""
    if parse_device_url(url).scheme == "fake":
        raise ValueError("a keypad bus needs a port: serial://… or tcp://… (use the emulator)")
    target, baud = pyserial_target(url, DEFAULT_BAUD)

    def open_port() -> Any:
        import serial

        return serial.serial_for_url(target, baudrate=baud, timeout=0.1)

    return KeypadBus(open_port)


class BusEmulator(CallerEmulator):
    """Caller and evaluator keypads at several addresses on one pty: press keys, give scores
    and reasons, read every LED (`display[addr]`)."""

    thread_name = "keypad-bus-emulator"

    def score(self, level: int, addr: int) -> None:
        self.write_raw(CnqsCodec().encode_score(addr, level))

    def reason(self, index: int, addr: int) -> None:
        self.write_raw(encode_frame(addr, FUNC_REASON, bytes([index])))
