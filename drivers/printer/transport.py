"""Byte transports for printers, each wrapping a python-escpos connection.

Every transport writes through python-escpos's `_raw` and answers `query(command)`: send a
real-time status command and read exactly one byte with a short timeout (None = no answer).
python-escpos's own `_read()` asks for 16 bytes and waits out the full timeout; we don't.
"""

from __future__ import annotations

import socket
from typing import Any, Protocol

from escpos.printer import File, Network, Serial, Usb

from drivers.base import Health


class PrinterTransport(Protocol):
    can_query: bool

    def write(self, data: bytes) -> None: ...

    def query(self, command: bytes, timeout: float) -> int | None: ...

    def close(self) -> None: ...


class _EscposTransport:
    can_query = True

    def __init__(self, printer: Any) -> None:
        self.printer = printer

    def write(self, data: bytes) -> None:
        self.printer._raw(data)

    def close(self) -> None:
        try:
            self.printer.close()
        except Exception:  # closing a broken connection must not hide the first error
            pass

    def query(self, command: bytes, timeout: float) -> int | None:
        raise NotImplementedError


class SerialTransport(_EscposTransport):
    def query(self, command: bytes, timeout: float) -> int | None:
        port = self.printer.device
        port.reset_input_buffer()
        port.write(command)
        saved, port.timeout = port.timeout, timeout
        try:
            reply = port.read(1)
        finally:
            port.timeout = saved
        return reply[0] if reply else None


class NetworkTransport(_EscposTransport):
    def query(self, command: bytes, timeout: float) -> int | None:
        sock: socket.socket = self.printer.device
        _drain(sock)
        sock.sendall(command)
        saved = sock.gettimeout()
        sock.settimeout(timeout)
        try:
            reply = sock.recv(1)
        except TimeoutError:
            return None
        finally:
            sock.settimeout(saved)
        if not reply:
            raise ConnectionError("printer closed the connection")
        return reply[0]


def _drain(sock: socket.socket) -> None:
    """Drop stale bytes (a late answer to an earlier query) before asking again."""
    saved = sock.gettimeout()
    sock.settimeout(0)
    try:
        while sock.recv(64):
            pass
    except (BlockingIOError, TimeoutError):
        pass
    finally:
        sock.settimeout(saved)


class UsbTransport(_EscposTransport):
    def query(self, command: bytes, timeout: float) -> int | None:
        self.printer._raw(command)
        try:
            reply = self.printer.device.read(self.printer.in_ep, 64, int(timeout * 1000))
        except Exception as e:  # pyusb raises USBTimeoutError (an USBError) on no answer
            if "timeout" in str(e).lower() or e.__class__.__name__ == "USBTimeoutError":
                return None
            raise
        return reply[0] if len(reply) else None


class AppendFile(File):
    """python-escpos File opens with "wb"; a capture file should keep earlier tickets."""

    def open(self, raise_not_found: bool = True) -> None:
        if self._device:
            self.close()
        self.device = open(self.devfile, "ab")  # noqa: SIM115 - closed by close()


class FileTransport(_EscposTransport):
    can_query = False

    def write(self, data: bytes) -> None:
        super().write(data)
        self.printer.flush()

    def query(self, command: bytes, timeout: float) -> int | None:
        return None


def serial_transport(device: str, baud: int, timeout: float) -> SerialTransport:
    return SerialTransport(Serial(device, baudrate=baud, timeout=timeout, dsrdtr=False))


def network_transport(host: str, port: int, timeout: float) -> NetworkTransport:
    return NetworkTransport(Network(host, port=port, timeout=timeout))


class TransportUnavailable(RuntimeError):
    """The transport cannot work on this machine at all; `health` says why."""

    def __init__(self, health: Health) -> None:
        super().__init__(health.message)
        self.health = health


class UnavailableTransport:
    can_query = True

    def __init__(self, health: Health) -> None:
        self.health = health

    def write(self, data: bytes) -> None:
        raise TransportUnavailable(self.health)

    def query(self, command: bytes, timeout: float) -> int | None:
        raise TransportUnavailable(self.health)

    def close(self) -> None:
        pass


def usb_transport(
    vid: int, pid: int, in_ep: int, out_ep: int, timeout: float
) -> UsbTransport | UnavailableTransport:
    if not Usb.is_usable():
        return UnavailableTransport(
            Health(
                "error", "pyusb_missing", "未安装 pyusb，无法使用 USB 打印机；可改用网络或串口连接"
            )
        )
    return UsbTransport(Usb(vid, pid, timeout=int(timeout * 1000), in_ep=in_ep, out_ep=out_ep))


def file_transport(path: str) -> FileTransport:
    return FileTransport(AppendFile(path))
