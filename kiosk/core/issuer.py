"""Issuing a ticket: online through the server, or offline from a leased number block.

Every issue carries the idempotency key of the tap that asked for it. The same key always
gives the same ticket: from this process's memory, from the outbox, or from the server.
The request falls back to a leased number only when the server is unreachable; the offline
ticket is later synced with that same key, so even a request that did reach the server
before the cut can never become two tickets on the server: when the server had committed
it under its own number (a slow answer the kiosk gave up on), the sync makes the server
take the printed number instead, since nobody holds the one it never got to tell.
An offline ticket is in the outbox before it is printed, its ID card sealed to the server.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from halldomain.idnumber import IdNumberError, mask_id_number, mask_name, parse_id_number
from halldomain.sealing import seal

from .api import Refused, ServerApi, Unreachable
from .models import CardLike, IssuedTicket, ServiceInfo
from .outbox import Lease, OfflineTicket, Outbox
from .settings import KioskSettings
from .state import KioskState


class IssueError(Exception):
    """The kiosk cannot issue this ticket; `message` is one Chinese sentence for the citizen."""

    def __init__(self, code: str, message: str, message_en: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.message_en = message_en or message


def elderly(card: CardLike | None, state: KioskState) -> bool:
    """Whether the card holder reaches the hall's elderly age today (the server decides too)."""
    if card is None:
        return False
    try:
        idn = parse_id_number(card.id_number)
    except IdNumberError:
        return False
    age = idn.age_on(state.local_now().date())
    return age is not None and age >= state.snap.hall.elderly_age


class Issuer:
    def __init__(
        self, api: ServerApi, outbox: Outbox, state: KioskState, settings: KioskSettings
    ) -> None:
        self.api = api
        self.outbox = outbox
        self.state = state
        self.settings = settings
        self._lock = threading.Lock()
        self._done: dict[str, IssuedTicket] = {}
        # Full ID numbers of offline real-name tickets from a lease without a sealing key (an
        # older server), in memory only, until they are synced.
        self.pending_cards: dict[str, dict[str, str]] = {}

    def issue(self, key: str, service: ServiceInfo, card: CardLike | None = None) -> IssuedTicket:
        """Issue (or return the already issued) ticket for this tap's key."""
        with self._lock:
            if key in self._done:
                return self._done[key]
            ticket = self._issue(key, service, card)
            self._done[key] = ticket
            if len(self._done) > 500:
                self._done.pop(next(iter(self._done)))
            return ticket

    def _issue(self, key: str, service: ServiceInfo, card: CardLike | None) -> IssuedTicket:
        if service.real_name and card is None:
            raise IssueError(
                "card_required", "该业务需要刷身份证取号", "This service needs an ID card"
            )
        if card is not None:
            try:
                parse_id_number(card.id_number)
            except IdNumberError as err:
                raise IssueError(
                    err.code, err.message, "The ID number on this card is not valid"
                ) from None
        body: dict[str, Any] = {"service": service.code, "channel": "kiosk", "idempotency_key": key}
        if card is not None:
            body["id_card"] = {"id_number": card.id_number, "name": card.name}
        existing = self.outbox.get(key)
        # While the sync loop says the server is away, go straight to a lease: no wait for a timeout.
        if existing is None and self.state.snap.online:
            try:
                data = self.api.issue(body)
                self.state.mark_online()
                return IssuedTicket.from_json(data, key=key, service_name=service.name)
            except Refused as err:
                self.state.mark_online()
                raise IssueError(err.code, err.message or "暂时无法取号，请咨询工作人员") from None
            except Unreachable:
                self.state.mark_offline()
        return self._issue_offline(key, service, card, existing)

    def _issue_offline(
        self, key: str, service: ServiceInfo, card: CardLike | None, existing: OfflineTicket | None
    ) -> IssuedTicket:
        snap = self.state.snap
        now = self.state.clock()
        since = snap.offline_since or now
        if existing is None and now - since > timedelta(
            minutes=self.settings.offline_issue_minutes
        ):
            raise IssueError(
                "offline_too_long",
                "自助取号暂停，请到服务台由工作人员为您取号",
                "Self-service is paused; please ask at the service desk",
            )
        priority = "elderly" if elderly(card, self.state) else "ordinary"

        def sealed(lease: Lease) -> str:
            if card is None or not lease.seal_key:
                return ""
            return seal(lease.seal_key, card.id_number, card.name, key)

        row = existing or self.outbox.take_number(
            key,
            service.code,
            self.state.business_day(),
            now.isoformat(),
            self.state.local_now().isoformat(timespec="seconds"),
            name_masked=mask_name(card.name) if card else "",
            id_masked=mask_id_number(card.id_number) if card else "",
            priority=priority,
            seal=sealed,
        )
        if row is None:
            raise IssueError(
                "no_numbers",
                "暂时无法取号，请到服务台由工作人员为您取号",
                "No numbers available; please ask at the service desk",
            )
        if card is not None and not row.sealed_card:
            self.pending_cards[key] = {"id_number": card.id_number, "name": card.name}
        ahead = service.waiting + sum(
            1 for t in self.outbox.pending() if t.service == service.code and t.seq < row.seq
        )
        label = snap.hall.classes.get(row.priority, "老年人" if row.priority == "elderly" else "")
        return IssuedTicket(
            key=key,
            number=row.number,
            service=service.code,
            service_name=service.name,
            issued_at=row.issued_at,
            ahead=ahead,
            wait=service.wait,
            qr=offline_qr(self.settings.server, key),
            offline=True,
            priority=row.priority,
            priority_label=label if row.priority != "ordinary" else "",
            name_masked=row.name_masked,
            id_masked=row.id_masked,
        )


def offline_qr(server: str, key: str) -> str:
    """What an offline ticket's QR code says: the server's page for it once it is synced
    (a redirect to the ticket page); the kiosk resolves it through its outbox."""
    return f"{server.rstrip('/')}/t/offline-{key}"
