"""Appointment check-in (预约签到): an ID card or the booking's QR code → the booking's ticket.

Only the server can verify a booking, so there is no offline path: when it cannot be reached
the citizen is told to take an ordinary ticket or ask staff (leased numbers are never used for
check-ins). The server answers a repeated check-in with the same ticket (`created` False); the
kiosk then shows the number without printing it again, and remembers each tap's key → result,
so a double tap or a repeated scan never asks twice.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from halldomain.idnumber import IdNumberError, parse_id_number

from .api import Refused, ServerApi, Unreachable
from .models import CardLike, IssuedTicket
from .state import KioskState

QR_PREFIX = "HALLAPPT:"
_COME_BACK = re.compile(r"(\d{1,2}:\d{2})\s*后再来")


class CheckInFailed(Exception):
    """No ticket: `code` is the server's error code (or `offline`, `invalid_qr`, an ID error)."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.message = message  # the server's Chinese sentence, shown as is in Chinese mode

    @property
    def come_back_at(self) -> str:
        """`09:00` from a `too_early` message ("请于 09:00 后再来签到"), else ""."""
        m = _COME_BACK.search(self.message)
        return m.group(1) if m else ""


@dataclass(frozen=True)
class CheckedIn:
    ticket: IssuedTicket
    late: bool  # after the grace period: an ordinary ticket
    created: bool  # False: this booking was already checked in, the same ticket again
    message: str


class CheckIns:
    def __init__(self, api: ServerApi, state: KioskState) -> None:
        self.api = api
        self.state = state
        self._lock = threading.Lock()
        self._done: dict[str, CheckedIn] = {}

    def check_in(self, key: str, card: CardLike | None = None, qr: str = "") -> CheckedIn:
        """Check in once per tap key: the same key returns the same result without a request."""
        with self._lock:
            if key in self._done:
                return self._done[key]
            result = self._check_in(card, qr)
            self._done[key] = result
            if len(self._done) > 500:
                self._done.pop(next(iter(self._done)))
            return result

    def _check_in(self, card: CardLike | None, qr: str) -> CheckedIn:
        if card is not None:
            try:
                parse_id_number(card.id_number)
            except IdNumberError as err:
                raise CheckInFailed(err.code, err.message) from None
            body = {"id_number": card.id_number, "name": card.name}
        elif qr.strip().startswith(QR_PREFIX):
            body = {"qr": qr.strip()}
        else:
            raise CheckInFailed("invalid_qr")
        try:
            data = self.api.check_in(body)
        except Unreachable:
            self.state.mark_offline()
            raise CheckInFailed("offline") from None
        except Refused as err:
            self.state.mark_online()
            raise CheckInFailed(err.code, err.message) from None
        self.state.mark_online()
        raw = data["ticket"]
        service = self.state.service(str(raw.get("service") or ""))
        ticket = IssuedTicket.from_json(
            raw,
            # Printing is keyed by the server's ticket: one booking, one paper ticket.
            key=f"appointment-ticket-{raw.get('id')}",
            service_name=service.name if service else "",
        )
        return CheckedIn(
            ticket=ticket,
            late=bool(data.get("late")),
            created=bool(data.get("created", True)),
            message=str(data.get("message") or ""),
        )
