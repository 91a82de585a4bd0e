"""Wires the core together: state, outbox, issuer, printing, lookup, sync and the flow."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drivers.base import Health

from .api import ServerApi
from .checkin import CheckIns
from .flow import KioskFlow, Runner, run_inline
from .issuer import Issuer
from .lookup import Lookup
from .outbox import Outbox
from .printing import PrinterLike, TicketPrinting
from .screens import Screen
from .settings import KioskSettings
from .state import Clock, KioskState, utc_now
from .sync import Syncer, SyncLoop


class KioskCore:
    """Everything the kiosk does without a display; the Qt app and the tests drive this."""

    def __init__(
        self,
        api: ServerApi,
        settings: KioskSettings,
        printer: PrinterLike | None = None,
        devices_health: Callable[[], dict[str, Health]] | None = None,
        run: Runner = run_inline,
        speak: Callable[[str, str], None] | None = None,
        on_change: Callable[[Screen], None] | None = None,
        clock: Clock = utc_now,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        self.api = api
        self.settings = settings
        self.state = KioskState(clock)
        self.outbox = Outbox(settings.outbox_path)
        self.issuer = Issuer(api, self.outbox, self.state, settings)
        self.printing = TicketPrinting(printer)
        self.lookup = Lookup(api, self.outbox, self.state)
        self.checkins = CheckIns(api, self.state)
        self.devices_health = devices_health or dict
        self.syncer = Syncer(
            api,
            self.outbox,
            self.state,
            self.issuer,
            settings,
            self.health,
            lambda: self.flow.screen.name,
        )
        self.loop: SyncLoop | None = None
        extra: dict[str, Any] = {"monotonic": monotonic} if monotonic else {}
        self.flow = KioskFlow(
            state=self.state,
            issuer=self.issuer,
            printing=self.printing,
            lookup=self.lookup,
            outbox=self.outbox,
            settings=settings,
            run=run,
            speak=speak,
            on_change=on_change,
            kick=self.kick,
            checkins=self.checkins,
            **extra,
        )

    def health(self) -> dict[str, dict[str, str]]:
        out = {"printer": self.printing.poll().as_dict()}
        out.update({name: h.as_dict() for name, h in self.devices_health().items()})
        return out

    def start_sync(self) -> None:
        """One round now (so home shows real services), then a background loop."""
        self.syncer.step()
        self.flow.refresh()
        self.loop = SyncLoop(
            self.syncer, self.settings.sync_interval_s, self.settings.heartbeat_interval_s
        )
        self.loop.start()

    def kick(self) -> None:
        if self.loop:
            self.loop.kick()

    def stop(self) -> None:
        if self.loop:
            self.loop.stop()
