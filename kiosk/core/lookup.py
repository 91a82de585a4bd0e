"""Looking up my number: by ID card (server matches a keyed hash) or by the ticket's QR code."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .api import ApiError, Refused, ServerApi
from .models import CardLike, WaitRange
from .outbox import Outbox
from .state import KioskState

_TICKET_URL = re.compile(r"/t/([A-Za-z0-9_\-]+)/?$")


@dataclass(frozen=True)
class Found:
    number: str
    service_name: str
    status: str
    ahead: int
    window: str = ""
    service: str = ""  # the code, so a screen can name the service in its own language
    wait: WaitRange = WaitRange(0, 0)
    window_guide: str = ""  # 智能引导 for a called ticket: "1楼B区11号窗口"


class LookupFailed(Exception):
    """The server cannot answer now (`offline`) or the QR code is not ours (`unreadable`)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class Lookup:
    def __init__(self, api: ServerApi, outbox: Outbox, state: KioskState) -> None:
        self.api = api
        self.outbox = outbox
        self.state = state

    def _found(self, data: dict) -> Found:
        code = str(data.get("service") or "")
        svc = self.state.service(code)
        return Found(
            number=str(data.get("number") or ""),
            service_name=svc.name if svc else code,
            status=str(data.get("status") or "waiting"),
            ahead=int(data.get("ahead") or 0),
            window=str(data.get("window") or ""),
            service=code,
            wait=WaitRange.from_json(data.get("wait_estimate")),
            window_guide=str(data.get("window_guide") or ""),
        )

    def by_card(self, card: CardLike) -> list[Found]:
        try:
            rows = self.api.lookup(card.id_number)
        except ApiError:
            raise LookupFailed("offline") from None
        return [self._found(r) for r in rows if r.get("status") in ("waiting", "called")]

    def by_qr(self, text: str) -> list[Found]:
        m = _TICKET_URL.search(text.strip())
        if not m:
            raise LookupFailed("unreadable")
        ticket_id = m.group(1)
        if ticket_id.startswith("offline-"):
            local = self.outbox.get(ticket_id.removeprefix("offline-"))
            if local is None:
                raise LookupFailed("unreadable")
            if not local.server_id:
                svc = self.state.service(local.service)
                name = svc.name if svc else local.service
                wait = svc.wait if svc else WaitRange(0, 0)
                ahead = svc.waiting if svc else 0
                return [Found(local.number, name, "waiting", ahead, "", local.service, wait)]
            ticket_id = local.server_id
        try:
            return [self._found(self.api.ticket(ticket_id))]
        except Refused:
            return []
        except ApiError:
            raise LookupFailed("offline") from None
