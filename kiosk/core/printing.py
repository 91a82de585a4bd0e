"""Printing an issued ticket exactly once, and saying what happened when the printer cannot.

A ticket counts as issued once it is printed or shown on screen (docs/KIOSK.md, "Printer trouble"): a failed print
never loses the number (the screen shows it with a QR code) and is never retried on paper,
so the citizen cannot end up holding two tickets.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from drivers.base import Health
from halldomain.waits import no_wait

from .models import IssuedTicket
from .texts import priority_text

log = logging.getLogger("kiosk.printing")


class PrinterLike(Protocol):
    def print_ticket(self, ticket: Any) -> Any: ...

    def status(self) -> Health: ...


@dataclass(frozen=True)
class PrintOutcome:
    printed: bool
    reason: str = ""  # "", "paper_out", "offline", "unknown", "no_printer", "already_attempted"
    health: Health | None = None


class TicketPrinting:
    def __init__(self, printer: PrinterLike | None) -> None:
        self.printer = printer
        self._attempted: dict[str, PrintOutcome] = {}
        self._lock = threading.Lock()
        self.last_health: Health = (
            Health("unknown", "not_polled") if printer else Health("error", "no_printer")
        )

    def build(self, ticket: IssuedTicket, hall: str, notice: str = "", location: str = "") -> Any:
        from drivers.printer import TicketPrint

        try:
            issued_at = datetime.fromisoformat(ticket.issued_at)
        except ValueError:
            issued_at = datetime.now().astimezone()
        return TicketPrint(
            hall=hall,
            service_name=ticket.service_name,
            number=ticket.number,
            ahead=ticket.ahead,
            wait_low_min=0 if no_wait(ticket.ahead) else ticket.wait.low_min,
            wait_high_min=0 if no_wait(ticket.ahead) else ticket.wait.high_min,  # "无需等候"
            issued_at=issued_at,
            qr=ticket.qr,
            notice=notice,
            masked_name=ticket.name_masked,
            priority_label=priority_text(ticket.priority, ticket.priority_label),
            location=location,
        )

    def print_once(
        self, ticket: IssuedTicket, hall: str, notice: str = "", location: str = ""
    ) -> PrintOutcome:
        """Print this ticket unless this key was already sent to the printer. `location`: where
        its service is handled (智能引导, "1楼B区11–13号窗口"), printed under the service."""
        with self._lock:
            if ticket.key in self._attempted:
                return self._attempted[ticket.key]
            outcome = self._print(ticket, hall, notice, location)
            self._attempted[ticket.key] = outcome
            if len(self._attempted) > 500:
                self._attempted.pop(next(iter(self._attempted)))
            return outcome

    def _print(
        self, ticket: IssuedTicket, hall: str, notice: str, location: str = ""
    ) -> PrintOutcome:
        if self.printer is None:
            return PrintOutcome(False, "no_printer", self.last_health)
        try:
            result = self.printer.print_ticket(self.build(ticket, hall, notice, location))
        except Exception as err:  # a driver bug or a dead port: the number is shown on screen
            log.warning("printer failed: %s", type(err).__name__)
            self.last_health = Health("error", "exception", "打印机异常")
            return PrintOutcome(False, "unknown", self.last_health)
        health = getattr(result, "health", None) or Health("unknown")
        self.last_health = health
        if getattr(result, "printed", False):
            return PrintOutcome(True, "", health)
        return PrintOutcome(
            False, str(getattr(result, "reason", "") or health.reason or "unknown"), health
        )

    def poll(self) -> Health:
        """Ask the printer (from the sync thread); never while it prints a ticket."""
        if self.printer is None:
            return self.last_health
        with self._lock:
            try:
                self.last_health = self.printer.status()
            except Exception:
                self.last_health = Health("error", "exception", "打印机状态读取失败")
            return self.last_health
