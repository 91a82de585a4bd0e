"""TicketPrinter: print a ticket and say honestly whether it came out.

A ticket counts as printed only when its bytes were written without error and the printer did
not report a fault (paper out, cover open, offline) before or right after. Otherwise the kiosk
gets printed=False and shows the number on screen instead, so no number is ever lost.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from drivers.base import Health
from drivers.urls import DeviceUrlError, parse_device_url

from . import commands as c
from .escpos_reader import Decoded, decode
from .fake import FakeTransport, PaperState
from .layout import TicketPrint, render_ticket
from .status import UNKNOWN_NO_STATUS, decode_status
from .transport import (
    PrinterTransport,
    TransportUnavailable,
    file_transport,
    network_transport,
    serial_transport,
    usb_transport,
)

log = logging.getLogger(__name__)
ENCODINGS = ("gb18030", "gbk")


@dataclass(frozen=True)
class PrintResult:
    printed: bool
    health: Health
    reason: str = ""  # English code when not printed, e.g. "paper_out", "write_failed"


class TicketPrinter:
    def __init__(
        self,
        transport: PrinterTransport,
        paper_mm: int = 80,
        encoding: str = "gb18030",
        native_qr: bool = True,
        status_timeout: float = 0.3,
    ) -> None:
        if paper_mm not in (58, 80):
            raise ValueError("paper_mm must be 58 or 80")
        if encoding not in ENCODINGS:
            raise ValueError(f"encoding must be one of {ENCODINGS}")
        self.transport = transport
        self.paper_mm = paper_mm
        self.encoding = encoding
        self.native_qr = native_qr
        self.status_timeout = status_timeout

    def render(self, ticket: TicketPrint) -> bytes:
        return render_ticket(ticket, self.paper_mm, self.encoding, self.native_qr)

    def print_ticket(self, ticket: TicketPrint) -> PrintResult:
        before = self.status()
        if before.state == "error":
            return PrintResult(False, before, before.reason)
        try:
            self.transport.write(self.render(ticket))
        except Exception as e:  # any transport failure means "not printed", never a crash
            log.warning("ticket %s not printed: %s", ticket.number, e.__class__.__name__)
            self.transport.close()  # python-escpos reopens lazily on the next write
            return PrintResult(
                False, Health("error", "write_failed", "打印机连接中断，未能出票"), "write_failed"
            )
        after = self.status()
        if after.state == "error":
            return PrintResult(False, after, after.reason)
        return PrintResult(True, after)

    def write_raw(self, data: bytes) -> None:
        self.transport.write(data)

    def status(self) -> Health:
        """DLE EOT 4 (paper), then 1 and 2 (offline, cover): one byte each, short timeout."""
        if not self.transport.can_query:
            return UNKNOWN_NO_STATUS
        try:
            paper = self.transport.query(c.STATUS_PAPER, self.status_timeout)
            if paper is None:
                return decode_status(None, None, None)
            printer = self.transport.query(c.STATUS_PRINTER, self.status_timeout)
            cause = self.transport.query(c.STATUS_OFFLINE_CAUSE, self.status_timeout)
        except TransportUnavailable as e:
            return e.health
        except Exception as e:
            self.transport.close()
            return Health("error", "connection_failed", f"无法连接打印机：{e.__class__.__name__}")
        return decode_status(printer, cause, paper)

    health = status  # the Device protocol's name

    def close(self) -> None:
        self.transport.close()


class FakePrinter(TicketPrinter):
    """`fake://`: the real TicketPrinter over a FakeTransport; exposes the bytes and paper."""

    transport: FakeTransport

    def __init__(self, **options: object) -> None:
        super().__init__(FakeTransport(), **options)  # type: ignore[arg-type]

    @property
    def output(self) -> bytes:
        return self.transport.output

    def set_paper(self, state: PaperState) -> None:
        self.transport.paper = state

    def set_connected(self, connected: bool) -> None:
        self.transport.connected = connected

    def decoded(self) -> Decoded:
        return decode(self.output, self.encoding)


def open_printer(
    url: str, paper_mm: int = 80, encoding: str = "gb18030", native_qr: bool | None = None
) -> TicketPrinter:
    """A printer for a device URL. URL options override: ?paper=58&encoding=gbk&qr=raster."""
    parsed = parse_device_url(url)
    paper_mm = parsed.param_int("paper", paper_mm)
    encoding = parsed.params.get("encoding", encoding).lower()
    if native_qr is None:
        native_qr = parsed.params.get("qr", "native") != "raster"
    timeout = parsed.param_float("timeout", 5.0)
    options = {"paper_mm": paper_mm, "encoding": encoding, "native_qr": native_qr}
    scheme = parsed.scheme
    if scheme == "fake":
        printer = FakePrinter(**options)
        if parsed.params.get("paper_state"):
            printer.set_paper(parsed.params["paper_state"])  # type: ignore[arg-type]
        return printer
    transport: PrinterTransport
    if scheme == "file":
        if not parsed.path:
            raise DeviceUrlError(f"{url}: file URL needs a path, e.g. file:///tmp/tickets.bin")
        transport = file_transport(parsed.path)
    elif scheme == "tcp":
        if not parsed.host:
            raise DeviceUrlError(f"{url}: tcp URL needs a host, e.g. tcp://192.168.1.50:9100")
        transport = network_transport(parsed.host, parsed.port or 9100, timeout)
    elif scheme == "serial":
        if not parsed.path:
            raise DeviceUrlError(f"{url}: serial URL needs a device, e.g. serial:///dev/ttyS0")
        transport = serial_transport(parsed.path, parsed.param_int("baud", 9600), timeout)
    elif scheme == "usb":
        vid, pid = usb_ids(parsed.host, url)
        in_ep = parsed.param_int("in_ep", 0x82)
        out_ep = parsed.param_int("out_ep", 0x01)
        transport = usb_transport(vid, pid, in_ep, out_ep, timeout)
    else:
        raise DeviceUrlError(f"{url}: printers support fake, file, tcp, serial and usb URLs")
    return TicketPrinter(transport, **options)  # type: ignore[arg-type]


def usb_ids(netloc: str, url: str) -> tuple[int, int]:
    """`0x0416:0x5011` (or `0416:5011`) → (0x0416, 0x5011)."""
    try:
        vid, pid = (int(part, 16) for part in netloc.split(":"))
    except ValueError:
        raise DeviceUrlError(f"{url}: expected usb://VID:PID, e.g. usb://0x0416:0x5011") from None
    return vid, pid
