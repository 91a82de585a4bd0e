"""`hall kiosk --screenshots DIR`: every screen, both orientations, standard and elder mode.

Uses canned data (no server, no devices), so it runs anywhere Qt runs offscreen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QApplication

from drivers.printer import FakePrinter
from kiosk.core.app import KioskCore
from kiosk.core.canned import CannedServer
from kiosk.core.devices import sample_cards
from kiosk.core.settings import KioskSettings

from .window import KioskWindow

SIZES = {"portrait": (1080, 1920), "landscape": (1920, 1080)}
WAITING = {
    "HJ": 12,
    "SB": 8,
    "YB": 5,
    "SW": 3,
    "BDC": 9,
    "QYKB": 2,
    "GJJ": 4,
    "CRJ": 6,
    "GCJS": 1,
    "ZCDX": 0,
}


@dataclass
class Rig:
    core: KioskCore
    printer: Any
    elder: bool
    lang: str
    mono: list[float]

    def fresh(self, *actions: str) -> None:
        """Home in this rig's mode, then the taps."""
        flow = self.core.flow
        flow.reset()
        if self.elder:
            flow.tap("elder")
        if self.lang == "en":
            flow.tap("lang")
        for a in actions:
            flow.tap(a)

    def tap(self, *actions: str) -> None:
        for a in actions:
            self.core.flow.tap(a)


def _idle(rig: Rig) -> None:
    rig.fresh("guides")
    s = rig.core.settings
    rig.mono[0] += (s.idle_timeout_elder_s if rig.elder else s.idle_timeout_s) - 21
    rig.core.flow.tick()


def _paper_out(rig: Rig) -> None:
    rig.printer.set_paper("out")
    rig.fresh("service:SW")
    rig.printer.set_paper("ok")


def _swipe(rig: Rig, action: str, card: Any) -> None:
    rig.fresh(action)
    rig.core.flow.card(card)


def _book(rig: Rig, start_in_min: int) -> str:
    """A booking of 税务业务 starting this many minutes from now; returns its QR text."""
    server: CannedServer = rig.core.api  # type: ignore[assignment]
    start = server.now() + timedelta(minutes=start_in_min)
    return server.book("SW", start, sample_cards()[0].id_number, sample_cards()[0].name)


def _check_in(rig: Rig, start_in_min: int) -> str:
    qr = _book(rig, start_in_min)
    rig.fresh("checkin")
    rig.core.flow.qr(qr)
    return qr


def _check_in_again(rig: Rig) -> None:
    qr = _check_in(rig, -5)
    rig.fresh("checkin")
    rig.core.flow.qr(qr)


def _check_in_offline(rig: Rig) -> None:
    server: CannedServer = rig.core.api  # type: ignore[assignment]
    qr = _book(rig, -5)
    server.online = False
    rig.fresh("checkin")
    rig.core.flow.qr(qr)
    server.online = True
    rig.core.state.mark_online()


def _issuing(rig: Rig) -> None:
    rig.fresh()
    rig.core.flow._go("issuing")


TOUR: list[tuple[str, Callable[[Rig], object]]] = [
    ("home", lambda r: r.fresh()),
    ("home-page2", lambda r: r.fresh("page:next") if r.elder else r.fresh()),
    ("swipe", lambda r: r.fresh("service:HJ")),
    ("ticket", lambda r: r.core.flow.card(sample_cards()[1])),
    ("rate", lambda r: r.tap("rate")),
    ("rate-reasons", lambda r: r.tap("level:2", "reason:kiosk_slow")),
    ("thanks", lambda r: r.tap("submit")),
    ("ticket-printer-out", _paper_out),
    ("message", lambda r: _swipe(r, "service:HJ", sample_cards()[1])),
    ("guide-list", lambda r: r.fresh("guides")),
    ("guide", lambda r: r.tap("guide:QYKB")),
    ("idle-warning", _idle),
    ("lookup", lambda r: r.fresh("lookup")),
    ("lookup-result", lambda r: r.core.flow.card(sample_cards()[1])),
    ("lookup-none", lambda r: _swipe(r, "lookup", sample_cards()[0])),
    ("issuing", _issuing),
    ("checkin", lambda r: r.fresh("checkin")),
    ("checkin-ticket", lambda r: _check_in(r, -5)),
    ("checkin-late", lambda r: _check_in(r, -30)),
    ("checkin-again", _check_in_again),
    ("checkin-too-early", lambda r: _check_in(r, 120)),
    ("checkin-missed", lambda r: _check_in(r, -90)),
    ("checkin-not-found", lambda r: _swipe(r, "checkin", sample_cards()[1])),
    ("checkin-offline", _check_in_offline),
]


def capture(out_dir: Path) -> list[Path]:
    app = QApplication.instance() or QApplication([])
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for orient, (w, h) in SIZES.items():
        for mode, elder, lang in [
            ("standard", False, "zh"),
            ("elder", True, "zh"),
            ("english", False, "en"),
        ]:
            mono = [0.0]
            server = CannedServer()
            server.waiting_bias = dict(WAITING)
            printer = FakePrinter()
            window = KioskWindow()
            window.setFixedSize(w, h)
            core = KioskCore(
                server,
                KioskSettings(server="http://hall.local"),
                printer=printer,
                on_change=window.show_screen,
                monotonic=lambda m=mono: m[0],  # type: ignore[misc]
            )
            window.tap = lambda a, g, c=core: c.flow.tap(a, g)  # type: ignore[misc]
            core.syncer.step()
            core.flow.refresh()
            window.show()
            rig = Rig(core, printer, elder, lang, mono)
            for name, step in TOUR:
                step(rig)
                app.processEvents()
                path = out_dir / f"{orient}-{mode}-{name}.png"
                window.grab().save(str(path), "PNG", 80)  # lighter compression: 2x faster
                written.append(path)
            window.close()
            window.deleteLater()
            app.processEvents()
    return written
