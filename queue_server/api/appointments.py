"""Appointment endpoints (预约): slots, booking, cancelling, CSV import, check-in; the policy text.

Who may call: the hall's online booking channel holds a `booking` token (or an admin one);
kiosks check citizens in; staff may check in at the counter and read the day's bookings.
docs/APPOINTMENTS.md documents every endpoint.
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import Field

from queue_server.api.common import Who, hall_of, json, require
from queue_server.api.models import Body
from queue_server.api.tickets import with_qr
from queue_server.appointments import booking as ops
from queue_server.base.errors import Invalid
from queue_server.core.policy import explain_policy
from queue_server.runtime import notify

router = APIRouter()
BOOKERS = ("booking", "admin")


class BookIn(Body):
    service: str = Field(max_length=32, description="Service code.")
    slot_start: str = Field(max_length=40, description="Slot start, ISO 8601 local time.")
    id_number: str = Field(max_length=32, description="ID number; only a keyed hash is stored.")
    name: str | None = Field(None, max_length=64, description="Name; only a masked form is kept.")
    phone: str | None = Field(
        None, max_length=20, description="Mobile for 'your turn is near'; kept until used."
    )
    external_ref: str | None = Field(
        None, min_length=1, max_length=128, description="The booking channel's id: idempotency."
    )


class CheckInIn(Body):
    id_number: str | None = Field(None, max_length=32, description="From the ID card reader.")
    name: str | None = Field(None, max_length=64)
    qr: str | None = Field(None, max_length=80, description="`HALLAPPT:1:<id>:<check code>`")
    service: str | None = Field(None, max_length=32, description="Which booking, if several.")
    phone: str | None = Field(None, max_length=20)


class StandingIn(Body):
    id_number: str = Field(max_length=32)


class NotifyIn(Body):
    phone: str = Field(max_length=20, description="Mobile number; erased once the SMS is sent.")


class CsvIn(Body):
    csv: str = Field(max_length=2_000_000, description="UTF-8 CSV text with a header row.")


def _day(text: str | None, default: str) -> date:
    try:
        return date.fromisoformat(text or default)
    except ValueError:
        raise Invalid("day 应为 YYYY-MM-DD", "invalid_day") from None


@router.get("/appointments/slots")
async def slots(request: Request, who: Who, service: str, day: str | None = None) -> Response:
    """Slots of one service on one day with capacity, booked and available places."""
    require(who, *BOOKERS, "kiosk", "staff")
    hall = hall_of(request)
    d = _day(day, hall.clock.business_day())
    return json(ops.slot_views(hall.ctx, hall.db.reader, service, d))


@router.post("/appointments", status_code=201)
async def book(body: BookIn, request: Request, who: Who) -> Response:
    """Book a slot. The response's `qr` is what the citizen's QR code must contain."""
    require(who, *BOOKERS)
    hall = hall_of(request)
    req = ops.BookRequest(
        body.service, body.slot_start, body.id_number, body.name, body.phone, body.external_ref
    )
    view, created = await hall.run(lambda tx: ops.book(hall.ctx, tx, req))
    return json(view, 201 if created else 200)


@router.get("/appointments")
async def list_appointments(
    request: Request,
    who: Who,
    day: str | None = None,
    service: str | None = None,
    status: str | None = None,
    limit: int = 500,
) -> Response:
    """Bookings of one day (masked), by slot."""
    require(who, *BOOKERS, "staff")
    hall = hall_of(request)
    d = _day(day, hall.clock.business_day()).isoformat()
    return json(ops.list_appointments(hall.ctx, hall.db.reader, d, service, status, limit))


@router.get("/appointments/{appt_id}")
async def get_appointment(appt_id: int, request: Request, who: Who) -> Response:
    require(who, *BOOKERS, "staff")
    hall = hall_of(request)
    row = ops.get_appointment(hall.db.reader, appt_id)
    return json(ops.appointment_view(hall.ctx, row, with_code=who.role in BOOKERS))


@router.post("/appointments/{appt_id}/cancel")
async def cancel(appt_id: int, request: Request, who: Who) -> Response:
    """Cancel a booking (counts towards the person's cancellation limit)."""
    require(who, *BOOKERS)
    hall = hall_of(request)
    return json(await hall.run(lambda tx: ops.cancel(hall.ctx, tx, appt_id)))


@router.post("/appointments/standing")
async def standing(body: StandingIn, request: Request, who: Who) -> Response:
    """A person's no-shows, cancellations, warnings and any booking block (by keyed hash)."""
    require(who, *BOOKERS, "kiosk", "staff")
    hall = hall_of(request)
    from halldomain.idnumber import IdNumberError, parse_id_number

    try:
        idn = parse_id_number(body.id_number)
    except IdNumberError as err:
        raise Invalid(err.message, err.code) from None

    def op(tx):  # type: ignore[no-untyped-def]
        ops.sweep_no_shows(hall.ctx, tx)
        return ops.standing(hall.ctx, tx.conn, hall.ctx.id_hash(idn.value)).as_dict(hall.ctx)

    return json(await hall.run(op))


@router.post("/appointments/import")
async def import_csv(body: CsvIn, request: Request, who: Who) -> Response:
    """Book from CSV; `errors` lists each bad row by line, the good rows are booked."""
    require(who, *BOOKERS)
    hall = hall_of(request)
    return json(await hall.run(lambda tx: ops.import_csv(hall.ctx, tx, body.csv)))


@router.post("/appointments/check-in", status_code=201)
async def check_in(body: CheckInIn, request: Request, who: Who) -> Response:
    """签到: ID card or QR code → a ticket (201; 200 with the same ticket when repeated)."""
    require(who, "kiosk", "staff", "admin")
    hall = hall_of(request)
    req = ops.CheckInRequest(
        body.id_number, body.name, body.qr, body.service, body.phone, device=who.name
    )
    out, created = await hall.run(lambda tx: ops.check_in(hall.ctx, tx, req))
    out["ticket"] = with_qr(request, out["ticket"])
    return json(out, 201 if created else 200)


@router.post("/tickets/{ticket_id}/notify")
async def notify_me(ticket_id: int, body: NotifyIn, request: Request, who: Who) -> Response:
    """Send an SMS when few people are ahead of this waiting ticket (叫号提醒)."""
    require(who, "kiosk", "staff", "admin")
    hall = hall_of(request)
    if not hall.config.notify.webhook_url:
        raise Invalid("本大厅未开通短信提醒", "notify_disabled")
    return json(
        await hall.run(lambda tx: notify.register_contact(hall.ctx, tx, ticket_id, body.phone))
    )


@router.get("/policy")
async def policy(request: Request, who: Who) -> Response:
    """The calling order in plain Chinese: `{"policy", "title", "text", "classes"}`."""
    return json(explain_policy(hall_of(request).config.routing))
