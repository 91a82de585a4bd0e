"""Opening the kiosk's devices by URL through `drivers`, and polling them off the UI thread.

The kiosk needs: an ID card reader polled in a thread (`on_card`), a ticket printer
(`print_ticket`, `status`) and optionally a camera that yields QR texts (`on_text`).
`fake://` URLs give the drivers' own fakes, which `--simulate` drives (place a card, scan
a ticket) through `KioskDevices`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from drivers.base import Health

from .printing import PrinterLike

log = logging.getLogger("kiosk.devices")


def sample_cards() -> list[Any]:
    """A young citizen and an elderly one from the drivers' sample cards."""
    from drivers.idcard.samples import SAMPLES

    return [SAMPLES["zhangsan"], SAMPLES["wangwu"]]


@dataclass
class KioskDevices:
    printer: PrinterLike | None = None
    reader: Any = None  # the driver's reader; a FakeIdCardReader has .place(card)
    poller: Any = None
    camera: Any = None  # a FakeCamera has .feed_payload(text)
    scanner: Any = None
    health_parts: dict[str, Callable[[], Health]] = field(default_factory=dict)

    def health(self) -> dict[str, Health]:
        out = {}
        for name, fn in self.health_parts.items():
            try:
                out[name] = fn()
            except Exception:
                out[name] = Health("error", "exception", "设备状态读取失败")
        return out

    def place_card(self, card: Any) -> bool:
        """Simulation: put a card on a fake reader."""
        place = getattr(self.reader, "place", None)
        if place is None:
            return False
        remove = getattr(self.reader, "remove", None)
        if remove:
            remove()
        place(card)
        return True

    def show_qr(self, text: str) -> bool:
        """Simulation: hold a QR code up to a fake camera."""
        feed = getattr(self.camera, "feed_payload", None)
        if feed is None:
            return False
        feed(text)
        return True

    def stop(self) -> None:
        for part in (self.poller, self.scanner):
            if part is not None:
                try:
                    part.stop()
                except Exception:
                    log.warning("device stop failed", exc_info=True)
        for part in (self.reader, self.camera, self.printer):
            close = getattr(part, "close", None)
            if close:
                try:
                    close()
                except Exception:
                    log.warning("device close failed", exc_info=True)


def open_devices(
    idcard: str | None,
    printer: str | None,
    camera: str | None,
    on_card: Callable[[Any], None],
    on_qr: Callable[[str], None],
    on_error: Callable[[Any], None] = lambda err: None,
) -> KioskDevices:
    """Open each device whose URL is given; a device that fails to open is reported, not fatal."""
    dev = KioskDevices()
    if printer:
        from drivers.printer import open_printer

        dev.printer = open_printer(printer)
    if idcard:
        from drivers.idcard import CardPoller, open_reader

        dev.reader = open_reader(idcard)
        dev.poller = CardPoller(
            dev.reader, interval=0.2, on_card=on_card, on_error=on_error
        ).start()
        dev.health_parts["idcard"] = dev.reader.health
    if camera:
        from drivers.camera import QrScanner, open_camera

        try:
            dev.camera = open_camera(camera)
        except Exception as err:  # no camera: lookup by ID card still works
            log.warning("camera %s cannot be opened: %s", camera, err)
            dev.health_parts["camera"] = lambda: Health("error", "open_failed", "摄像头无法打开")
        else:
            dev.scanner = QrScanner(dev.camera, on_text=on_qr, interval=0.1).start()  # ~10 frames/s
            dev.health_parts["camera"] = dev.camera.health
    return dev
