"""The hall described by one TOML file: every key has a default, a type and a line of help.

Unknown keys and bad values are a clear error at start (`HallConfigError` names the key).
`docs/CONFIG.md` is generated from these models (`hall config-docs`); a test keeps it current.
"""

from __future__ import annotations

import functools
import hashlib
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from halldomain import itemcodes, places, ratings

ASSETS = Path(__file__).resolve().parents[2] / "assets"
DEMO_CONFIG = ASSETS / "halls" / "demo.toml"
_HOURS = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d$")


class HallConfigError(ValueError):
    """A hall TOML file that cannot be used; the message names the key and the problem."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HallSection(Strict):
    name: str = Field(
        "政务服务中心", description="Hall name shown on tickets, the display and the kiosk."
    )
    timezone: str = Field(
        "Asia/Shanghai",
        description="IANA time zone; the business day rolls over at local midnight here.",
    )
    enforce_hours: bool = Field(
        True,
        description="Refuse tickets outside a service's opening hours (false: issue at any time).",
    )
    notices: list[str] = Field(
        default_factory=list,
        description="Notices (信息发布) scrolled on the hall display and kiosk. `{elderly_age}` "
        "is replaced by `routing.elderly_age`, so a notice cannot contradict it.",
    )
    staffing: Literal["login", "open"] = Field(
        "login",
        description="Which windows serve, for wait estimates and the live floor: `login`, an "
        "open window with a staff member on duty there (a staff login or window token bound "
        "to it, used within `security.session_idle_minutes`); `open`, every open window "
        "(halls whose window terminals do not log in, and simulations).",
    )

    public_base_url: str = Field(
        "",
        max_length=200,
        pattern=r"^(https?://[^\s/?#]+(/[^\s?#]*)?)?$",
        description="The address a phone reaches the hall at (its public gateway), put before "
        "a ticket's code in its QR link (`qr`), e.g. `https://zwfw.example.gov.cn/hall/12`. "
        "Empty: the address the request came in on (the hall's own network).",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # "Asia" is a directory
            raise ValueError(f"unknown time zone {v!r}") from None
        return v


class PriorityClass(Strict):
    label: str = Field(description="Chinese name of the class shown to staff, e.g. 老年人.")
    offset: float = Field(
        0.0, ge=0, le=240, description="Head start in minutes-equivalent added to the score."
    )
    rate: float = Field(
        1.0, gt=0, le=10, description="How fast the score grows per minute waited (ordinary = 1)."
    )


def _default_classes() -> dict[str, PriorityClass]:
    return {
        "ordinary": PriorityClass(label="普通", offset=0, rate=1),
        "elderly": PriorityClass(label="老年人", offset=15, rate=1),
        "disabled": PriorityClass(label="残疾人", offset=15, rate=1),
        "pregnant": PriorityClass(label="孕妇", offset=15, rate=1),
        "military": PriorityClass(label="军人", offset=20, rate=1),
        "appointment": PriorityClass(label="预约", offset=30, rate=1),
    }


class RoutingSection(Strict):
    policy: Literal["accumulating", "interleave", "strict"] = Field(
        "accumulating",
        description="Calling order: accumulating priority (default), N priority : 1 ordinary "
        "interleave, or strict priority (for comparison only; it can starve ordinary tickets).",
    )
    interleave_n: int = Field(
        3,
        ge=1,
        le=20,
        description="With policy = interleave: priority tickets called per ordinary one.",
    )
    elderly_age: int = Field(
        60,
        ge=50,
        le=100,
        description="Age (from the ID card's birth date) that earns the elderly class.",
    )
    noshow_reactivate_minutes: int = Field(
        30, ge=0, le=480, description="How long a skipped (过号) ticket may be re-activated."
    )
    classes: dict[str, PriorityClass] = Field(
        default_factory=_default_classes,
        description="Priority classes by code; must include `ordinary`.",
    )

    @model_validator(mode="after")
    def _has_ordinary(self) -> RoutingSection:
        if "ordinary" not in self.classes:
            raise ValueError("routing.classes must define `ordinary`")
        return self


class SecuritySection(Strict):
    max_failed_logins: int = Field(
        5, ge=1, le=20, description="Failed password logins before lockout."
    )
    lockout_minutes: int = Field(15, ge=1, le=1440, description="How long an account stays locked.")
    session_idle_minutes: int = Field(
        30, ge=1, le=720, description="Idle time after which a staff login session expires."
    )
    retention_days: int = Field(
        30, ge=1, le=3650, description="Days after which personal data on tickets is purged."
    )
    issue_per_device_per_minute: int = Field(
        120,
        ge=0,
        le=100000,
        description="Tickets one device or account may issue per minute, in bursts up to the "
        "same number (against scripted ticket scalping, 黄牛); 0 = no limit.",
    )
    issue_per_id_per_day: int = Field(
        5,
        ge=0,
        le=1000,
        description="Tickets one ID number may take per business day over all services "
        "(against ticket scalping, 黄牛); 0 = no limit.",
    )
    max_event_streams: int = Field(
        1000,
        ge=1,
        le=100000,
        description="Concurrent event-stream (/api/v1/events) connections; more get 503.",
    )
    max_body_kib: int = Field(
        64,
        ge=1,
        le=65536,
        description="Largest request body in KiB; larger ones get 413 (admin configuration uploads may be up to 4 MiB).",
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Origins allowed to call the API from a browser (CORS); empty = same "
        "origin only, no Access-Control-Allow-Origin header is ever sent.",
    )
    content_security_policy: str = Field(
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' "
        "'unsafe-inline'; img-src 'self' data: blob:; media-src 'self' data: blob:; "
        "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'self'",
        description="Content-Security-Policy header sent with every page (not with /docs).",
    )


_DATE = r"^\d{4}-\d{2}-\d{2}$"


class CalendarSection(Strict):
    holidays: list[Annotated[str, Field(pattern=_DATE)]] = Field(
        default_factory=list,
        description="Public holidays (YYYY-MM-DD) that are not working days, e.g. 国庆节.",
    )
    workdays: list[Annotated[str, Field(pattern=_DATE)]] = Field(
        default_factory=list,
        description="Weekend dates that are working days (调休上班), YYYY-MM-DD.",
    )


class FollowupSection(Strict):
    deadline_working_days: int = Field(
        5,
        ge=1,
        le=60,
        description="Working days to rectify (整改) a 差评 (local rule: Sichuan 15, Dezhou 5).",
    )
    followup_working_days: int = Field(
        1,
        ge=1,
        le=30,
        description="Working days to verify and call the citizen back (核实/回访) after a 差评.",
    )
    hotline_url: str = Field(
        "",
        description="12345 hotline webhook that receives handed-off cases (POST JSON); empty: "
        "hand-offs wait in the local queue until it is set.",
    )
    hotline_secret_env: str = Field(
        "HALL_HOTLINE_SECRET",
        pattern=r"^[A-Z_][A-Z0-9_]{0,63}$",
        description="Environment variable holding the shared secret that signs hand-offs and "
        "authenticates 12345 outcomes (HMAC-SHA256); the secret itself is never in this file.",
    )
    hotline_send_phone: bool = Field(
        False,
        description="Send the citizen's full phone number with a hand-off (else only the masked "
        "form 138****1234); ID numbers and names are never sent, only their masked forms.",
    )
    hotline_timeout_s: float = Field(10.0, gt=0, le=120, description="HTTP timeout per hand-off.")
    hotline_backoff_base_s: float = Field(
        5.0,
        gt=0,
        le=3600,
        description="First retry delay of a hand-off; doubles after each failure.",
    )
    hotline_backoff_max_s: float = Field(
        3600.0,
        gt=0,
        le=86400,
        description="Longest delay between hand-off retries (never given up).",
    )
    hotline_max_skew_s: int = Field(
        300,
        ge=30,
        le=3600,
        description="A 12345 outcome whose signed timestamp is further than this from the server "
        "clock is refused (with the nonce check, a replayed outcome is refused).",
    )


Channel = Literal["window", "qr", "kiosk"]


def _service_channels() -> list[Channel]:
    return ["window", "qr"]


class RatingReason(Strict):
    code: str = Field(
        pattern=r"^[a-z][a-z0-9_]{0,31}$", description="Stable code stored and uploaded, e.g. slow."
    )
    label: str = Field(min_length=1, max_length=40, description="Chinese label shown to citizens.")
    label_en: str = Field("", max_length=60, description="English label (kiosk English mode).")
    channels: list[Channel] = Field(
        default_factory=_service_channels,
        min_length=1,
        description="Channels that offer it: window and qr rate the service, kiosk the terminal.",
    )
    indicator: Literal["", "efficiency", "competence", "attitude"] = Field(
        "",
        description="Offline indicator it counts against in the reports: efficiency 服务效率, "
        "competence 服务水平, attitude 服务态度; empty for none (facilities, other).",
    )


def _default_reasons() -> list[dict[str, Any]]:
    return [
        {
            "code": r.code,
            "label": r.label,
            "label_en": r.label_en,
            "channels": list(r.channels),
            "indicator": r.indicator,
        }
        for r in ratings.DEFAULT_REASONS
    ]


class RatingsSection(Strict):
    reasons: list[RatingReason] = Field(
        default_factory=_default_reasons,
        validate_default=True,
        min_length=1,
        description="差评 reasons (codes + labels) offered on every channel; level ≤ 2 needs one."
        " The default is the hall's own list (halldomain/ratings.py); a province's list replaces"
        " it.",
    )

    @field_validator("reasons")
    @classmethod
    def _unique(cls, v: list[RatingReason]) -> list[RatingReason]:
        codes = [r.code for r in v]
        if len(set(codes)) != len(codes):
            raise ValueError("duplicate reason code")
        return v

    def domain(self) -> tuple[ratings.Reason, ...]:
        return tuple(
            ratings.Reason(r.code, r.label, r.label_en, tuple(r.channels), r.indicator)
            for r in self.reasons
        )


class UploadSection(Strict):
    endpoint: str = Field(
        "",
        description="URL of the provincial 好差评 platform; empty keeps records queued.",
    )
    field_map: dict[str, str] = Field(
        default_factory=dict,
        description="Platform field name -> record field (record_id, case_no, case_nos, "
        "item_code, department, hall, ticket_number, business_day, service_code, service_name, "
        "window, staff, staff_no, staff_account, device, channel, level, level_label, reasons, "
        "comment, evaluated_at); empty sends every record field under its own name.",
    )
    timeout_s: float = Field(10.0, gt=0, le=120, description="HTTP timeout per upload.")
    backoff_base_s: float = Field(
        5.0, gt=0, le=3600, description="First retry delay; doubles after every failure."
    )
    backoff_max_s: float = Field(
        3600.0, gt=0, le=86400, description="Longest delay between retries (never given up)."
    )
    value_map: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="Record field -> {our value -> platform value}, e.g. channel = {window = "
        '"1", kiosk = "2", qr = "3"}, level = {"5" = "01"}, reasons = {long_wait = "A01"}: a '
        "list field maps each item; a value missing from a field's map holds the record back "
        "(retried) with the reason shown on the admin page, never sent unmapped.",
    )
    list_separator: str = Field(
        "",
        max_length=4,
        description='Join list fields (reasons, case_nos) with this, e.g. ","; empty sends a JSON '
        "array.",
    )
    datetime_format: str = Field(
        "",
        max_length=40,
        description="strftime format of times (evaluated_at, finished_at) in the hall's time "
        'zone, e.g. "%Y%m%d%H%M%S" or "%Y-%m-%d %H:%M:%S"; empty sends ISO 8601.',
    )
    date_format: str = Field(
        "",
        max_length=40,
        description='strftime format of dates (business_day), e.g. "%Y%m%d"; empty sends '
        "YYYY-MM-DD.",
    )
    constants: dict[str, str] = Field(
        default_factory=dict,
        description="Platform field -> fixed value added to every record (area code, hall "
        "code, interface version).",
    )
    sign: Literal["none", "hmac-sha256", "hmac-sm3"] = Field(
        "none",
        description="Request signing: the signature header is the hex HMAC (SHA-256 or SM3) "
        "with app_secret over timestamp + nonce + body (the exact bytes sent).",
    )
    app_key: str = Field("", max_length=128, description="Application key the platform issued.")
    app_secret: str = Field(
        "",
        max_length=256,
        description="Application secret for the signature. Write-only: the admin API, TOML "
        'export, audit and logs show it as "********"; sending that mask back keeps it.',
    )
    app_key_header: str = Field("X-App-Key", description="Header carrying app_key.")
    timestamp_header: str = Field(
        "X-Timestamp", description="Header carrying the time of signing (ms since the epoch)."
    )
    nonce_header: str = Field("X-Nonce", description="Header carrying a fresh random nonce.")
    signature_header: str = Field("X-Signature", description="Header carrying the signature.")
    result_code_field: str = Field(
        "code",
        description="Field of the platform's JSON answer that holds its result code; empty or "
        "absent: any 2xx answer is accepted.",
    )
    ok_codes: list[str] = Field(
        default_factory=lambda: ["0", "200"],
        description="Result codes that mean accepted.",
    )
    duplicate_codes: list[str] = Field(
        default_factory=list,
        description="Result codes that mean 'this 办件编号 was already received': the record "
        "counts as delivered (HTTP 409 always does).",
    )

    @model_validator(mode="after")
    def _signing(self) -> UploadSection:
        if self.sign != "none" and not (self.app_key and self.app_secret):
            raise ValueError("upload.sign needs app_key and app_secret")
        if self.sign == "hmac-sm3" and "sm3" not in hashlib.algorithms_available:
            raise ValueError("upload.sign: this system's OpenSSL has no SM3; use hmac-sha256")
        return self


class PublicationSection(Strict):
    show_satisfaction: bool = Field(
        False,
        description="Show the hall's 好评率 of the current month on the hall display (公开评价).",
    )
    show_rectifications: bool = Field(
        False,
        description="Show recent 整改 results of 差评 on the hall display: date, service, reason "
        "labels and the measures as written on the case (write them for the public: they are "
        "shown as they are). Never a name, 工号, phone, ticket number or comment.",
    )
    rectifications: int = Field(
        3, ge=1, le=10, description="How many recent 整改 results the display shows at most."
    )
    rectification_days: int = Field(
        30, ge=1, le=366, description="Show 整改 results completed within this many days."
    )


class OversightSection(Strict):
    per_window_alert: float = Field(
        10.0,
        gt=0,
        le=1000,
        description="Alert when a service has more waiting people than this per open window.",
    )
    wait_alert_min: int = Field(
        30,
        ge=1,
        le=1440,
        description="Alert when a service's predicted wait (upper end) passes these minutes.",
    )


class Service(Strict):
    code: str = Field(
        pattern=r"^[A-Z][A-Z0-9_]{0,15}$",
        description="Service code in this system, e.g. BDC (the national 事项实施编码 go in `item_codes`).",
    )
    name: str = Field(min_length=1, description="Chinese name shown to citizens.")
    name_en: str = Field("", description="English name for the kiosk's English mode.")
    prefix: str = Field(pattern=r"^[A-Z]{1,2}$", description="Ticket number prefix, e.g. A.")
    number_range: tuple[int, int] = Field(
        (1, 999),
        description="First and last ticket number of a day; the width of the last sets padding.",
    )
    daily_quota: int = Field(
        0, ge=0, description="Tickets per business day (0 = up to the number range)."
    )
    hours: list[str] = Field(
        default_factory=lambda: ["08:30-12:00", "13:30-17:30"],
        description="Opening hours for issuing tickets, local time, `HH:MM-HH:MM`.",
    )
    real_name: bool = Field(False, description="Whether a ticket needs an ID card (实名取号).")
    avg_service_min: float = Field(
        8.0,
        gt=0,
        le=240,
        description="Typical service time in minutes until history says otherwise.",
    )
    guide: str = Field(
        "", description="Service guide (办事指南): materials and conditions, plain text."
    )
    forms: list[str] = Field(
        default_factory=list,
        description="Sample forms (示例表单) shown with the guide: a title or a URL each.",
    )
    item_codes: list[str] = Field(
        default_factory=list,
        max_length=50,
        description="The 事项实施编码 (GB/T 39554.1) of the items this service stands for: the "
        "implementing body's 18-character 统一社会信用代码 and the item's basic code, 24–40 "
        "capitals or digits, e.g. 11440200MB2C92640Q4442117047000. With exactly one, a 好差评 "
        "record carries it when 办结 names none.",
    )
    department: str = Field(
        "",
        max_length=60,
        description="The department (实施部门) whose items these are, e.g. 市公安局; on 好差评 records.",
    )

    @field_validator("item_codes")
    @classmethod
    def _item_codes(cls, v: list[str]) -> list[str]:
        codes = [itemcodes.normalise(c) for c in v]
        for code in codes:
            if not itemcodes.is_item_code(code):
                raise ValueError(
                    f"item code {code!r} is not a 事项实施编码 (18-character credit code + basic "
                    "code, 24-40 capitals or digits)"
                )
        if len(set(codes)) != len(codes):
            raise ValueError("duplicate item code")
        return codes

    @field_validator("hours")
    @classmethod
    def _hours_format(cls, v: list[str]) -> list[str]:
        for span in v:
            if not _HOURS.match(span) or span[:5] >= span[6:]:
                raise ValueError(f"opening hours {span!r} must be HH:MM-HH:MM with start < end")
        return v

    @field_validator("number_range")
    @classmethod
    def _range(cls, v: tuple[int, int]) -> tuple[int, int]:
        if not 0 <= v[0] < v[1] <= 99999:
            raise ValueError("number_range must be [first, last] with 0 <= first < last <= 99999")
        return v

    @property
    def number_width(self) -> int:
        return len(str(self.number_range[1]))


class Window(Strict):
    no: int = Field(ge=1, le=9999, description="Window number (窗口号) as painted above it.")
    name: str = Field("", description="Window name, e.g. 综合窗口.")
    kind: Literal["comprehensive", "dedicated", "tidal"] = Field(
        "comprehensive", description="综合窗口, 专窗 or 潮汐窗口."
    )
    services: dict[str, Annotated[float, Field(gt=0, le=100)]] = Field(
        description="Service codes this window serves, each with a weight (higher = preferred)."
    )
    status: Literal["open", "paused", "closed"] = Field("open", description="State at start-up.")
    department: str = Field(
        "",
        max_length=60,
        description="The department staffing this window (进驻部门), e.g. 市人社局; on 好差评 "
        "records of services without a department of their own.",
    )
    floor: str = Field(
        "",
        max_length=8,
        description="Floor of the window, e.g. 3 (shown 3楼) or 负一楼; with `zone` the kiosk, the "
        "printed ticket and the display guide citizens: 3楼B区12号窗口 (智能引导).",
    )
    zone: str = Field(
        "", max_length=8, description="Zone of the floor, e.g. B (shown B区) or 东区."
    )

    @property
    def guide(self) -> str:
        """The way to this window: 3楼B区12号窗口, or 12号窗口 without a location."""
        return places.window_guide(self.no, self.floor, self.zone)


class AppointmentsSection(Strict):
    enabled: bool = Field(True, description="Accept online bookings (预约) and check-ins.")
    services: list[str] = Field(
        default_factory=list,
        description="Service codes that can be booked (empty = every service).",
    )
    slot_minutes: int = Field(
        60, ge=10, le=240, description="Length of one booking slot within the opening hours."
    )
    capacity_per_slot: int = Field(
        4, ge=0, le=1000, description="Bookings one service accepts per slot (0 = not bookable)."
    )
    capacity: dict[str, Annotated[int, Field(ge=0, le=1000)]] = Field(
        default_factory=dict,
        description="Per-service slot capacity overriding `capacity_per_slot`, e.g. {BDC = 6}.",
    )
    weekdays: list[Annotated[int, Field(ge=1, le=7)]] = Field(
        default_factory=lambda: [1, 2, 3, 4, 5],
        description="ISO weekdays with bookable slots (1 = Monday).",
    )
    closed_dates: list[str] = Field(
        default_factory=list, description="Dates (YYYY-MM-DD) without slots: public holidays."
    )
    days_ahead: int = Field(7, ge=0, le=90, description="How many days ahead one may book.")
    early_checkin_minutes: int = Field(
        30,
        ge=0,
        le=240,
        description="Check-in opens this long before the slot starts; earlier arrivals are told "
        "when to come back (no ticket yet).",
    )
    late_grace_minutes: int = Field(
        15,
        ge=0,
        le=240,
        description="Check-in after slot start + this grace gives an ordinary ticket, not an "
        "appointment one.",
    )
    max_per_service_day: int = Field(
        3, ge=1, le=50, description="Bookings one person may hold for one service on one day."
    )
    noshow_limit: int = Field(
        2, ge=1, le=50, description="No-shows (爽约) within `window_days` that block booking."
    )
    cancel_limit: int = Field(
        5, ge=1, le=100, description="Cancellations within `window_days` that block booking."
    )
    window_days: int = Field(30, ge=1, le=365, description="Look-back period for the limits.")
    block_days: int = Field(
        30, ge=1, le=365, description="How long booking stays blocked once a limit is reached."
    )
    warn_after: int = Field(
        1,
        ge=1,
        le=50,
        description="Warn the citizen from this many no-shows or cancellations on.",
    )


class NotifySection(Strict):
    webhook_url: str = Field(
        "",
        description="SMS gateway webhook for 'your turn is near' messages (empty = off). "
        "Receives a JSON POST; see docs/APPOINTMENTS.md.",
    )
    ahead_threshold: int = Field(
        3, ge=0, le=50, description="Notify once a ticket has this many people ahead or fewer."
    )
    retries: int = Field(3, ge=0, le=10, description="Delivery attempts after the first.")
    retry_seconds: float = Field(
        5.0, ge=0, le=600, description="Pause before the first retry; doubles each time."
    )
    timeout_seconds: float = Field(5.0, gt=0, le=60, description="HTTP timeout per attempt.")
    text: str = Field(
        "【{hall}】您的号 {number} 前面还有 {ahead} 人，请回到大厅等候叫号。",
        description="Message template: {hall}, {number}, {service}, {ahead}.",
    )


class WindowScreenSection(Strict):
    show_staff: bool = Field(
        False,
        description="Show the staff member on duty (name, 工号, photo) on the window screens "
        "(窗口屏, /window-screen?window=N); off: only the window and the ticket.",
    )
    photo_url: str = Field(
        "",
        description="Staff photo address with {staff_no}, e.g. /photos/{staff_no}.jpg (same "
        "origin, served by the hall); empty shows the name's first character instead.",
    )


class LedSection(Strict):
    template: Literal["cnqs", "colon"] = Field(
        "cnqs",
        description="Shipped LED strip frame (条屏, RS-485): cnqs = `FF 68 {len} {len} [68 {addr} "
        "{cmd} {text}] {check} 16`, sum8, command 31; colon = `3A [{addr} {cmd} {text}] {check} "
        "0A`, xor8, command 54, escape 7D. The keys below override its parts; see docs/DEVICES.md.",
    )
    layout: str = Field(
        "",
        description="Frame layout: start bytes, tokens {addr} {cmd} {len} {text} {check}, [ ] "
        "around the checked bytes, end bytes (empty: the template's).",
    )
    command: str = Field(
        "", description="Command byte(s) for 'show text' in hex, e.g. \"31\" (empty: template's)."
    )
    encoding: Literal["", "gb2312", "gbk"] = Field(
        "", description="Text encoding (empty: the template's gb2312)."
    )
    checksum: Literal["", "none", "sum8", "xor8", "crc16-modbus"] = Field(
        "", description="Checksum kind (empty: the template's)."
    )
    escape: str = Field(
        "",
        description="Escape byte in hex: start, end and escape bytes inside a frame go out as "
        'ESC, byte^0x20; "none" = no escaping (empty: the template\'s).',
    )
    text: str = Field(
        "{number} 请到{window}号窗口",
        description="Text sent to a window's strip on a call: {number}, {window}.",
    )
    paused_text: str = Field("暂停服务", description="Text on a paused or closed window's strip.")
    idle_text: str = Field("", description="Text after 办结/过号 (empty: keep the last call).")
    addresses: dict[str, Annotated[int, Field(ge=0, le=255)]] = Field(
        default_factory=dict,
        description='Window number -> bus address, e.g. {"3" = 12}; unlisted windows use '
        "their number.",
    )
    queue_size: int = Field(
        256,
        ge=1,
        le=100000,
        description="Strips with text waiting for the bus; beyond this the oldest waiting text "
        "is dropped (a newer text for the same strip always replaces the waiting one).",
    )
    answer_timeout_s: float = Field(
        0.0,
        ge=0,
        le=5,
        description="Wait this long for a strip's answer after each frame (0: strips that never "
        "answer; health then shows write errors only).",
    )

    @field_validator("text")
    @classmethod
    def _placeholders(cls, v: str) -> str:
        try:
            v.format(number="A001", window=1)
        except (KeyError, IndexError, ValueError):
            raise ValueError("led.text may use only {number} and {window}") from None
        return v


class BroadcastSection(Strict):
    late_minutes: int = Field(
        10,
        ge=1,
        le=120,
        description="A scheduled broadcast (语音广播) missed by more than this many minutes "
        "(the server was down at the time) is not said late.",
    )
    max_chars: int = Field(200, ge=10, le=500, description="Longest broadcast text, in characters.")


class PostersSection(Strict):
    max_kib: int = Field(
        2048,
        ge=16,
        le=3072,
        description="Largest poster image (信息发布) an administrator may upload, in KiB.",
    )
    max_pixels: int = Field(
        4096,
        ge=256,
        le=8192,
        description="Largest width or height of a poster image, in pixels.",
    )


class CitySection(Strict):
    """The hall's link to the city's MQTT broker (docs/CITY.md); absent: no link."""

    broker: str = Field(
        pattern=r"^mqtts?://[^\s/:]+(:\d{1,5})?/?$",
        description="The city broker, `mqtt://host:port` (`mqtts://` for TLS, port 8883 by default).",
    )
    hall_id: str = Field(
        pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$",
        description="This hall's id in the city, in its topics `hall/v1/{hall_id}/…`.",
    )
    username: str = Field("", description="Broker user (default `hall-{hall_id}`).")
    password: str = Field("", description="Broker password of this hall's user.")
    district: str = Field("", max_length=40, description="District (区/街道) shown on the map.")
    address: str = Field("", max_length=120, description="Street address shown on the map.")
    lat: float | None = Field(None, ge=-90, le=90, description="Latitude (WGS-84 degrees).")
    lon: float | None = Field(None, ge=-180, le=180, description="Longitude (WGS-84 degrees).")
    accepts_remote: bool = Field(
        True, description="Accept phone actions through the broker (the QR rating)."
    )
    status_interval_s: float = Field(
        1.0, ge=0.2, le=60, description="At most one status message per this many seconds."
    )
    heartbeat_s: float = Field(
        30.0, ge=1, le=600, description="Seconds between heartbeats on `online`."
    )


class HallConfig(Strict):
    hall: HallSection = Field(default_factory=lambda: HallSection(), description="The hall itself.")
    routing: RoutingSection = Field(
        default_factory=lambda: RoutingSection(), description="Calling order."
    )
    security: SecuritySection = Field(
        default_factory=lambda: SecuritySection(), description="Accounts, retention."
    )
    appointments: AppointmentsSection = Field(
        default_factory=lambda: AppointmentsSection(), description="Appointments (预约)."
    )
    notify: NotifySection = Field(
        default_factory=lambda: NotifySection(), description="'Your turn is near' messages."
    )
    services: list[Service] = Field(
        min_length=1, description="Services (事项) issued at this hall."
    )
    windows: list[Window] = Field(min_length=1, description="Windows (窗口) of this hall.")
    calendar: CalendarSection = Field(
        default_factory=lambda: CalendarSection(), description="Working-day calendar."
    )
    followup: FollowupSection = Field(
        default_factory=lambda: FollowupSection(), description="好差评 follow-up of 差评."
    )
    ratings: RatingsSection = Field(
        default_factory=lambda: RatingsSection(), description="好差评 reasons."
    )
    upload: UploadSection = Field(
        default_factory=lambda: UploadSection(), description="Upload to the provincial platform."
    )
    oversight: OversightSection = Field(
        default_factory=lambda: OversightSection(), description="效能监察 alert thresholds."
    )
    publication: PublicationSection = Field(
        default_factory=lambda: PublicationSection(),
        description="好评率 and 整改 results on the hall display (off by default).",
    )
    window_screen: WindowScreenSection = Field(
        default_factory=lambda: WindowScreenSection(), description="Window screens (窗口屏)."
    )
    led: LedSection = Field(
        default_factory=lambda: LedSection(), description="LED strips over RS-485 (条屏)."
    )
    broadcast: BroadcastSection = Field(
        default_factory=lambda: BroadcastSection(), description="Voice broadcasts (语音广播)."
    )
    posters: PostersSection = Field(
        default_factory=lambda: PostersSection(), description="Image notices (信息发布)."
    )
    city: CitySection | None = Field(
        None, description="Link to the city's MQTT broker (政务服务地图); absent: none."
    )

    @model_validator(mode="after")
    def _consistent(self) -> HallConfig:
        codes = [s.code for s in self.services]
        prefixes = [s.prefix for s in self.services]
        if len(set(codes)) != len(codes):
            raise ValueError("services: duplicate service code")
        if len(set(prefixes)) != len(prefixes):
            raise ValueError("services: two services share a ticket prefix")
        nos = [w.no for w in self.windows]
        if len(set(nos)) != len(nos):
            raise ValueError("windows: duplicate window number")
        for w in self.windows:
            unknown = set(w.services) - set(codes)
            if unknown:
                raise ValueError(f"window {w.no} serves unknown service(s) {sorted(unknown)}")
        booked = set(self.appointments.services) | set(self.appointments.capacity)
        if booked - set(codes):
            raise ValueError(f"appointments: unknown service(s) {sorted(booked - set(codes))}")
        age = self.routing.elderly_age
        for i, notice in enumerate(self.hall.notices):
            for m in _ELDERLY_AGE.finditer(notice):
                if int(m.group(1)) != age:
                    raise ValueError(
                        f"hall.notices[{i}] says {m.group(0)!r} but routing.elderly_age is "
                        f"{age}: write {{elderly_age}} in the notice instead of the number"
                    )
        _check_text(self.model_dump(), "")
        return self

    def notices(self) -> list[str]:
        """The hall's notices as shown: `{elderly_age}` filled in from routing.elderly_age."""
        age = str(self.routing.elderly_age)
        return [n.replace("{elderly_age}", age) for n in self.hall.notices]

    def service(self, code: str) -> Service | None:
        return self._services_by_code.get(code)

    def window(self, no: int) -> Window | None:
        return self._windows_by_no.get(no)

    def service_location(self, code: str, lang: str = "zh") -> str:
        """Where service `code` is handled (智能引导): its windows' floors and zones, e.g.
        1楼B区11–13号窗口; "" when no window of it has a location."""
        return places.service_location(
            ((w.no, w.floor, w.zone) for w in self.windows if code in w.services), lang
        )

    @functools.cached_property
    def _windows_by_no(self) -> dict[int, Window]:
        return {w.no: w for w in self.windows}

    @functools.cached_property
    def _services_by_code(self) -> dict[str, Service]:
        # Looked up on every ticket view; the model is frozen, so the index never goes stale.
        return {s.code: s for s in self.services}


# "70周岁以上老年人" and the like: an age a notice states for the elderly class.
_ELDERLY_AGE = re.compile(r"(\d+)\s*周?岁(?:及|或)?以上(?:的)?老年")
# Control characters (C0 but tab and line feed, DEL, C1) and lone surrogates. In a ticket's
# text they would reach the printer as raw ESC/POS commands; surrogates cannot be encoded.
_BAD_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def _check_text(value: Any, where: str) -> None:
    """Refuse control characters and lone surrogates in any text of the configuration."""
    if isinstance(value, str):
        m = _BAD_TEXT.search(value)
        if m:
            raise ValueError(
                f"{where or '(top level)'}: control character U+{ord(m.group()):04X} not allowed"
            )
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_text(k, f"{where}.{k}" if where else str(k))
            _check_text(v, f"{where}.{k}" if where else str(k))
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            _check_text(v, f"{where}[{i}]")


def _describe(err: ValidationError) -> str:
    lines = []
    for e in err.errors():
        where = ".".join(str(p) for p in e["loc"]) or "(top level)"
        msg = "unknown key" if e["type"] == "extra_forbidden" else e["msg"]
        lines.append(f"  {where}: {msg}")
    return "\n".join(lines)


def parse_config(data: dict[str, Any], source: str = "<config>") -> HallConfig:
    try:
        return HallConfig.model_validate(data)
    except ValidationError as err:
        raise HallConfigError(f"{source}: invalid hall configuration:\n{_describe(err)}") from None


def load_config(path: str | Path | None = None) -> HallConfig:
    """Read and validate a hall TOML file (the demo hall when no path is given)."""
    p = Path(path) if path else DEMO_CONFIG
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HallConfigError(f"{p}: no such file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise HallConfigError(f"{p}: not valid TOML: {err}") from None
    except RecursionError:
        raise HallConfigError(f"{p}: not valid TOML: nested too deeply") from None
    return parse_config(data, str(p))
