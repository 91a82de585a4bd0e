"""The data the kiosk shows: services, the hall, issued tickets. Built from server JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from halldomain import ratings


class CardLike(Protocol):
    """What the kiosk reads from `drivers.idcard.IdCard` (duck-typed so fakes can stand in)."""

    @property
    def name(self) -> str: ...

    @property
    def id_number(self) -> str: ...


@dataclass(frozen=True)
class WaitRange:
    low_min: int
    high_min: int

    @classmethod
    def from_json(cls, data: Any) -> WaitRange:
        data = data or {}
        return cls(int(data.get("low_min") or 0), int(data.get("high_min") or 0))


@dataclass(frozen=True)
class ServiceInfo:
    code: str
    name: str
    name_en: str = ""
    prefix: str = ""
    waiting: int = 0
    wait: WaitRange = WaitRange(0, 0)
    real_name: bool = False
    guide: str = ""
    guide_en: str = ""  # an English guide, where the hall's config has one
    open: bool = True
    hours: tuple[str, ...] = ()  # opening hours, local `HH:MM-HH:MM`
    location: str = ""  # where it is handled (智能引导): "1楼B区11–13号窗口", "" if not configured
    location_en: str = ""

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ServiceInfo:
        return cls(
            code=str(data["code"]),
            name=str(data.get("name") or data["code"]),
            name_en=str(data.get("name_en") or ""),
            prefix=str(data.get("prefix") or ""),
            waiting=int(data.get("waiting") or 0),
            wait=WaitRange.from_json(data.get("wait_estimate")),
            real_name=bool(data.get("real_name", False)),
            guide=str(data.get("guide") or ""),
            guide_en=str(data.get("guide_en") or ""),
            open=bool(data.get("open", True)),
            hours=tuple(str(h) for h in data.get("hours") or ()),
            location=str(data.get("location") or ""),
            location_en=str(data.get("location_en") or ""),
        )

    def label(self, lang: str) -> str:
        return self.name_en if lang == "en" and self.name_en else self.name


@dataclass(frozen=True)
class HallInfo:
    name: str = "政务服务中心"
    notices: tuple[str, ...] = ()
    business_day: str = ""
    timezone: str = "Asia/Shanghai"
    elderly_age: int = 60
    classes: dict[str, str] = field(default_factory=dict)
    appointments: bool = True  # the hall takes bookings: the home screen offers 预约签到
    # The kiosk channel's 差评 reasons and threshold from the hall's rating vocabulary (GET /hall
    # `ratings`); the defaults of halldomain/ratings.py until the server has answered.
    reasons: tuple[ratings.Reason, ...] = tuple(
        r for r in ratings.DEFAULT_REASONS if "kiosk" in r.channels
    )
    reason_threshold: int = ratings.REASON_THRESHOLD

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HallInfo:
        return cls(
            name=str(data.get("name") or "政务服务中心"),
            notices=tuple(str(n) for n in data.get("notices") or ()),
            business_day=str(data.get("business_day") or ""),
            timezone=str(data.get("timezone") or "Asia/Shanghai"),
            elderly_age=int(data.get("elderly_age") or 60),
            classes={str(k): str(v) for k, v in (data.get("classes") or {}).items()},
            appointments=bool(data.get("appointments", True)),
            **_rating_vocabulary(data.get("ratings")),
        )


def _rating_vocabulary(data: Any) -> dict[str, Any]:
    """The kiosk's reasons and threshold from `ratings` of GET /hall (absent: the defaults)."""
    if not isinstance(data, dict):
        return {}
    reasons = tuple(
        ratings.Reason(str(r["code"]), str(r["label"]), str(r.get("label_en") or r["label"]))
        for r in data.get("reasons") or ()
        if "kiosk" in (r.get("channels") or ())
    )
    out: dict[str, Any] = {"reason_threshold": int(data.get("reason_threshold") or 2)}
    if reasons:
        out["reasons"] = reasons
    return out


@dataclass(frozen=True)
class IssuedTicket:
    """A ticket as the citizen sees it, whether the server issued it or a lease did offline."""

    key: str  # the idempotency key of the tap that issued it
    number: str
    service: str
    service_name: str
    issued_at: str
    ahead: int
    wait: WaitRange
    qr: str
    ticket_id: str = ""  # server id; empty while an offline ticket waits in the outbox
    offline: bool = False
    priority: str = "ordinary"
    priority_label: str = ""
    name_masked: str = ""
    id_masked: str = ""
    status: str = "waiting"

    @classmethod
    def from_json(cls, data: dict[str, Any], key: str = "", service_name: str = "") -> IssuedTicket:
        return cls(
            key=key or str(data.get("idempotency_key") or data.get("id") or ""),
            number=str(data["number"]),
            service=str(data.get("service") or ""),
            service_name=service_name or str(data.get("service_name") or data.get("service") or ""),
            issued_at=str(data.get("issued_at") or ""),
            ahead=int(data.get("ahead") or 0),
            wait=WaitRange.from_json(data.get("wait_estimate")),
            qr=str(data.get("qr") or ""),
            ticket_id=str(data.get("id") or ""),
            priority=str(data.get("priority") or "ordinary"),
            priority_label=str(data.get("priority_label") or ""),
            name_masked=str(data.get("name_masked") or ""),
            id_masked=str(data.get("id_masked") or ""),
            status=str(data.get("status") or "waiting"),
        )
