"""Opening the kiosk's devices by URL through `drivers`, with small stand-ins until they exist.

The kiosk only needs: an ID card reader polled in a thread (`on_card`), a ticket printer
(`print_ticket`, `status`) and optionally a camera that yields QR texts (`on_text`). When the
`drivers` package offers a device kind it is used; otherwise (or for `sim://`) the stand-ins
below keep `--simulate` and the screenshots working.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drivers.base import Health

from .printing import PrinterLike

log = logging.getLogger("kiosk.devices")

CardCallback = Callable[[Any], None]


@dataclass
class SimCard:
    """Same fields as `drivers.idcard.IdCard`, for the stand-in reader."""

    name: str
    id_number: str
    birth: str
    card_type: str = "resident"
    gender: str = "male"
    english_name: str = ""
    nation: str = "汉"
    address: str = ""
    authority: str = ""
    valid_from: str = "2020-01-01"
    valid_to: str = "长期"


SIM_CARDS = [
    SimCard("张三", "44010219900101123X", "1990-01-01"),
    SimCard("李秀英", "11010519491231002X", "1949-12-31", gender="female"),
]


@dataclass
class SimPrintResult:
    printed: bool
    health: Health
    reason: str = ""


@dataclass
class SimPrinter:
    """Records tickets; with a path, appends a readable text rendering of each one."""

    path: Path | None = None
    paper: str = "ok"
    output: list[Any] = field(default_factory=list)

    def set_paper(self, state: str) -> None:
        self.paper = state

    def status(self) -> Health:
        if self.paper == "ok":
            return Health("ok")
        if self.paper == "near_end":
            return Health("warning", "paper_near_end", "打印纸将尽")
        return Health("error", f"paper_{self.paper}", "打印机缺纸或离线")

    def print_ticket(self, ticket: Any) -> SimPrintResult:
        health = self.status()
        if health.state == "error":
            return SimPrintResult(False, health, health.reason)
        self.output.append(ticket)
        if self.path:
            with open(self.path, "ab") as f:
                f.write(
                    f"{ticket.hall}\n{ticket.service_name}\n{ticket.number}\n{ticket.qr}\n\n".encode(
                        "gb18030"
                    )
                )
        return SimPrintResult(True, health)


class SimReader:
    """A card reader the operator drives: `place(card)` delivers one read to the poller."""

    def __init__(self) -> None:
        self.on_card: CardCallback | None = None

    def place(self, card: Any) -> None:
        if self.on_card:
            self.on_card(card)

    def health(self) -> Health:
        return Health("ok", "simulated")

    def stop(self) -> None:
        pass


@dataclass
class KioskDevices:
    printer: PrinterLike | None
    reader: Any = None  # has .stop(); delivers cards through on_card
    camera: Any = None
    sim_reader: SimReader | None = None
    health_parts: dict[str, Callable[[], Health]] = field(default_factory=dict)

    def health(self) -> dict[str, Health]:
        out = {}
        for name, fn in self.health_parts.items():
            try:
                out[name] = fn()
            except Exception:
                out[name] = Health("error", "exception")
        return out

    def stop(self) -> None:
        for part in (self.reader, self.camera):
            stop = getattr(part, "stop", None)
            if stop:
                try:
                    stop()
                except Exception:
                    log.warning("device stop failed", exc_info=True)


def open_printer(url: str | None) -> PrinterLike | None:
    if not url:
        return None
    if url.startswith("sim://"):
        return SimPrinter()
    try:
        printer_mod = importlib.import_module("drivers.printer")
        return printer_mod.open_printer(url)  # type: ignore[no-any-return]
    except (ImportError, AttributeError):
        if url.startswith("file://"):
            log.warning("drivers.printer is not available: writing plain text tickets to %s", url)
            return SimPrinter(Path(url.removeprefix("file://")))
        if url.startswith("fake://"):
            return SimPrinter()
        raise


def start_reader(
    url: str | None, on_card: CardCallback, on_error: Callable[[Any], None]
) -> tuple[Any, Any]:
    """Open the reader at `url` and poll it in a thread; returns (poller, health source)."""
    if not url:
        return None, None
    if not url.startswith("sim://"):
        try:
            idcard = importlib.import_module("drivers.idcard")
            reader = idcard.open_reader(url)
            poller = idcard.CardPoller(reader, interval=0.2, on_card=on_card, on_error=on_error)
            poller.start()
            return poller, reader
        except (ImportError, AttributeError):
            if not url.startswith("fake://"):
                raise
    sim = SimReader()
    sim.on_card = on_card
    return sim, sim


def start_camera(url: str | None, on_text: Callable[[str], None]) -> tuple[Any, Any]:
    if not url:
        return None, None
    try:
        camera = importlib.import_module("drivers.camera")
        cam = camera.open_camera(url)
        scanner = camera.QrScanner(cam, on_text=on_text)
        start = getattr(scanner, "start", None)
        if start:
            start()
        return scanner, cam
    except (ImportError, AttributeError):
        log.warning("drivers.camera is not available: QR lookup by camera is off")
        return None, None


def open_devices(
    idcard: str | None,
    printer: str | None,
    camera: str | None,
    on_card: CardCallback,
    on_qr: Callable[[str], None],
    on_error: Callable[[Any], None] = lambda err: None,
) -> KioskDevices:
    prn = open_printer(printer)
    poller, reader = start_reader(idcard, on_card, on_error)
    scanner, cam = start_camera(camera, on_qr)
    parts: dict[str, Callable[[], Health]] = {}
    if reader is not None and hasattr(reader, "health"):
        parts["idcard"] = reader.health
    if cam is not None and hasattr(cam, "health"):
        parts["camera"] = cam.health
    sim = poller if isinstance(poller, SimReader) else None
    return KioskDevices(prn, poller, scanner, sim, parts)
