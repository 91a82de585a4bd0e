"""Request bodies (pydantic) and documented response shapes for the OpenAPI schema."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from queue_server.ratings.evaluations import MAX_REASON  # the domain answers 422 reason_too_long


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class IdCardIn(Body):
    id_number: str = Field(max_length=32, description="ID number; only a keyed hash is stored.")
    name: str | None = Field(None, max_length=64, description="Name; only a masked form is stored.")


class LeaseCopy(Body):
    """A lease as `POST /kiosk/leases` granted it; its proof shows the server gave it out."""

    lease_id: str = Field(max_length=64)
    service: str = Field(max_length=32)
    business_day: str = Field(max_length=10)
    first: int = Field(ge=0, le=99999)
    last: int = Field(ge=0, le=99999)
    epoch: int = Field(0, ge=0)
    created_at: str = Field(max_length=40)
    expires_at: str = Field("", max_length=40)
    proof: str = Field(max_length=128)


class RetiredLease(Body):
    lease_id: str = Field(max_length=64)
    used_to: int = Field(ge=0, le=99999, description="Its highest number the kiosk issued.")


class LeaseCheckIn(Body):
    leases: list[LeaseCopy] = Field(max_length=200)
    retired: list[RetiredLease] = Field(
        default_factory=list,
        max_length=200,
        description="Leases the kiosk issues no more from; their unused numbers go back.",
    )


class TicketIn(Body):
    service: str = Field(max_length=32, description="Service code.")
    channel: Literal["kiosk", "counter", "appointment"] = "kiosk"
    idempotency_key: str | None = Field(None, min_length=1, max_length=128)
    id_card: IdCardIn | None = None
    priority: str | None = Field(None, max_length=32, description="Priority class code.")
    lease_id: str | None = Field(
        None, max_length=64, description="Offline sync: the kiosk's lease."
    )
    seq: int | None = Field(None, ge=0, le=99999, description="Offline sync: number in the lease.")
    issued_at: str | None = Field(
        None,
        max_length=40,
        description="Offline sync: when it was issued (kiosk clock; clamped to the lease's life"
        " and the server's now).",
    )
    lease: LeaseCopy | None = Field(
        None, description="Offline sync: the kiosk's copy of its lease, as granted (with proof)."
    )
    id_card_sealed: str | None = Field(
        None,
        max_length=1024,
        description="Offline sync: the ID card sealed to the lease's seal_key, instead of id_card.",
    )


class WaitEstimate(BaseModel):
    low_min: int
    high_min: int


class TicketOut(BaseModel):
    id: int
    number: str
    service: str
    service_name: str
    status: Literal["waiting", "called", "no_show", "done", "cancelled", "expired"]
    priority: str
    priority_label: str
    channel: str
    issued_at: str
    window: int | None
    ahead: int
    wait_estimate: WaitEstimate
    call_reason: dict | None = None
    id_masked: str | None = None
    name_masked: str | None = None
    qr: str


class TransferIn(Body):
    service: str | None = Field(None, max_length=32)
    window: int | None = Field(None, ge=1, le=9999)


class FinishIn(Body):
    case_no: str | None = Field(
        None,
        pattern=r"^[0-9A-Za-z][0-9A-Za-z_./-]{0,63}$",
        description="办件编号: the business system's case number (unique in the hall).",
    )
    item_code: str | None = Field(
        None,
        pattern=r"^[0-9A-Za-z][0-9A-Za-z-]{0,63}$",
        description="事项实施编码 (GB/T 39554.1): the item's implementation code.",
    )


class CancelIn(Body):
    id_number: str | None = Field(None, max_length=32, description="The ID card it was issued to.")
    code: str | None = Field(
        None, max_length=64, description="The code in the ticket's QR address."
    )


class CallTicketIn(Body):
    number: str | None = Field(None, max_length=16)
    ticket_id: int | None = None


class LookupIn(Body):
    id_number: str = Field(max_length=32)


class EvaluationIn(Body):
    ticket_id: int
    level: int = Field(ge=1, le=5, description="5 非常满意 … 1 非常不满意")
    reasons: list[str] = Field(
        default_factory=list,
        max_length=10,
        description=f"差评 reason codes of the hall's list (GET /hall), up to {MAX_REASON} chars.",
    )
    comment: str = Field("", max_length=500)
    channel: Literal["window", "kiosk", "qr"] = "window"
    code: str | None = Field(
        None,
        max_length=64,
        description="Channel `qr` without a token: the code of the ticket's QR link (`/t/CODE`).",
    )
    contact_phone: str | None = Field(
        None,
        max_length=20,
        description="Channel `qr`: an 11-digit mainland mobile number for a 回访 (optional); "
        "stored for the follow-up, shown masked (138****1234), purged with the ticket's "
        "personal data.",
    )


class LeaseIn(Body):
    service: str = Field(max_length=32)
    size: int = Field(20, ge=1, le=200)


class HeartbeatIn(Body):
    health: dict[str, dict[str, str]] = Field(default_factory=dict)
    state: dict[str, str | int | float | bool | None] = Field(default_factory=dict)


class LoginIn(Body):
    username: str = Field(max_length=64)
    password: str = Field(max_length=256)
    window: int | None = Field(None, ge=1, le=9999)


class ErrorOut(BaseModel):
    error: dict[str, str]
