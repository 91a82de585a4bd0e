"""Fixtures for kiosk tests: a canned server, fake devices, a hand-driven clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from drivers.base import Health
from halldomain.idnumber import check_character
from kiosk.core.app import KioskCore
from kiosk.core.canned import CannedServer
from kiosk.core.screens import Screen
from kiosk.core.settings import KioskSettings


def id_number(first17: str) -> str:
    return first17 + check_character(first17)


@dataclass
class Card:
    name: str
    id_number: str
    birth: str
    card_type: str = "resident"


YOUNG = Card("张三", id_number("44010219900101123"), "1990-01-01")
ELDER = Card("欧阳娜娜", id_number("11010519441231002"), "1944-12-31")


@dataclass
class PrintResult:
    printed: bool
    health: Health
    reason: str = ""


@dataclass
class FakePrinter:
    paper: str = "ok"
    printed: list[Any] = field(default_factory=list)
    attempts: int = 0

    def print_ticket(self, ticket: Any) -> PrintResult:
        self.attempts += 1
        if self.paper in ("out", "offline"):
            return PrintResult(
                False, Health("error", f"paper_{self.paper}", "缺纸"), f"paper_{self.paper}"
            )
        self.printed.append(ticket)
        return PrintResult(True, Health("ok"))

    def status(self) -> Health:
        return Health("ok") if self.paper == "ok" else Health("error", self.paper)


class Clock:
    """Wall clock and monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.wall = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
        self.mono = 1000.0

    def now(self) -> datetime:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.wall += timedelta(seconds=seconds)
        self.mono += seconds


@dataclass
class Rig:
    server: CannedServer
    core: KioskCore
    printer: FakePrinter
    clock: Clock
    spoken: list[tuple[str, str]]
    screens: list[Screen]

    @property
    def flow(self):  # noqa: ANN201
        return self.core.flow

    def tap(self, action: str) -> bool:
        return self.core.flow.tap(action, self.core.flow.screen.gen)


def make_rig(tmp_path: Any = None, **settings: Any) -> Rig:
    clock = Clock()
    server = CannedServer(clock=clock.now)
    printer = FakePrinter()
    spoken: list[tuple[str, str]] = []
    screens: list[Screen] = []
    path = str(tmp_path / "outbox.db") if tmp_path else ":memory:"
    core = KioskCore(
        server,
        KioskSettings(server="http://hall.local", outbox_path=path, **settings),
        printer=printer,
        speak=lambda text, lang: spoken.append((text, lang)),
        on_change=screens.append,
        clock=clock.now,
        monotonic=clock.monotonic,
    )
    core.syncer.step()
    core.flow.refresh()
    return Rig(server, core, printer, clock, spoken, screens)


@pytest.fixture
def rig(tmp_path: Any) -> Rig:
    return make_rig(tmp_path)
