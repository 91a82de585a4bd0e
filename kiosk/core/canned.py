"""An in-memory stand-in for the queue server: screenshots, core tests and `--simulate` offline.

It follows the contract in docs/API.md and the kiosk extensions (leases, lookup, heartbeat) closely enough for
the kiosk's flows; it is not the server and holds no rules beyond what the kiosk relies on.
`online = False` makes every call raise `Unreachable`, which is how tests cut the network.
"""

from __future__ import annotations

import secrets
import threading
import tomllib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from halldomain import places, ratings
from halldomain.idnumber import mask_name, parse_id_number

from .api import Refused, Unreachable

HOURS = ["08:30-12:00", "13:30-17:30"]  # the server's default opening hours
DEMO_HALL = Path(__file__).resolve().parents[2] / "assets" / "halls" / "demo.toml"


class CannedServer:
    def __init__(
        self,
        hall_toml: Path = DEMO_HALL,
        base_url: str = "http://hall.local",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.now = clock
        cfg = tomllib.loads(hall_toml.read_text(encoding="utf-8"))
        self.base_url = base_url
        self.hall_cfg = cfg.get("hall", {})
        self.tz = ZoneInfo(self.hall_cfg.get("timezone", "Asia/Shanghai"))
        self.elderly_age = int(cfg.get("routing", {}).get("elderly_age", 60))
        classes = cfg.get("routing", {}).get("classes", {})
        self.classes = {k: v.get("label", k) for k, v in classes.items()} or {"elderly": "老年人"}
        self.service_cfg: list[dict[str, Any]] = cfg["services"]
        self.window_cfg: list[dict[str, Any]] = cfg.get("windows", [])
        self.appointments_cfg: dict[str, Any] = cfg.get("appointments", {})
        self.online = True
        self.lock = threading.Lock()
        self.tickets: dict[str, dict[str, Any]] = {}
        self.by_key: dict[str, str] = {}
        self.next_seq: dict[str, int] = {s["code"]: 1 for s in self.service_cfg}
        self.leases: dict[str, dict[str, Any]] = {}
        self.heartbeats: list[dict[str, Any]] = []
        self.evaluations: list[dict[str, Any]] = []
        self.issue_calls = 0
        self.waiting_bias: dict[str, int] = {}
        self.appointments: dict[int, dict[str, Any]] = {}
        self.checkin_calls = 0

    def _check(self) -> None:
        if not self.online:
            raise Unreachable("ConnectionError")

    def _service(self, code: str) -> dict[str, Any]:
        s = next((s for s in self.service_cfg if s["code"] == code), None)
        if s is None:
            raise Refused(422, "unknown_service", f"未知的事项编码：{code}")
        return s

    def _waiting(self, code: str) -> int:
        n = sum(
            1 for t in self.tickets.values() if t["service"] == code and t["status"] == "waiting"
        )
        return n + self.waiting_bias.get(code, 0)

    def _estimate(self, code: str, ahead: int) -> dict[str, int]:
        avg = float(self._service(code).get("avg_service_min", 8))
        mean = (ahead + 1) * avg / 3
        return {"low_min": int(mean * 0.7), "high_min": int(mean * 1.3 + 0.999)}

    def hall(self) -> dict[str, Any]:
        self._check()
        return {
            "name": self.hall_cfg.get("name", "政务服务中心"),
            "notices": [
                str(n).replace("{elderly_age}", str(self.elderly_age))
                for n in self.hall_cfg.get("notices", [])
            ],
            "business_day": self.now().astimezone(self.tz).date().isoformat(),
            "timezone": str(self.tz),
            "elderly_age": self.elderly_age,
            "classes": self.classes,
            "appointments": bool(self.appointments_cfg.get("enabled", True)),
            "ratings": ratings.vocabulary(ratings.DEFAULT_REASONS),
        }

    def services(self) -> list[dict[str, Any]]:
        self._check()
        with self.lock:
            out = []
            for s in self.service_cfg:
                n = self._waiting(s["code"])
                out.append(
                    {
                        "code": s["code"],
                        "name": s["name"],
                        "name_en": s.get("name_en", ""),
                        "prefix": s["prefix"],
                        "real_name": bool(s.get("real_name", False)),
                        "guide": s.get("guide", ""),
                        "open": True,
                        "hours": list(s.get("hours") or HOURS),
                        "waiting": n,
                        "wait_estimate": self._estimate(s["code"], n),
                        "location": self._location(s["code"], "zh"),
                        "location_en": self._location(s["code"], "en"),
                    }
                )
            return out

    def _location(self, code: str, lang: str) -> str:
        """Where a service is handled, from the windows' floor and zone (as the server says)."""
        return places.service_location(
            (
                (int(w["no"]), str(w.get("floor", "")), str(w.get("zone", "")))
                for w in self.window_cfg
                if code in (w.get("services") or {})
            ),
            lang,
        )

    def issue(self, body: dict[str, Any]) -> dict[str, Any]:
        self._check()
        with self.lock:
            self.issue_calls += 1
            key = body.get("idempotency_key")
            if key and key in self.by_key:
                return dict(self.tickets[self.by_key[key]])
            s = self._service(body["service"])
            card = body.get("id_card") or {}
            priority = body.get("priority") or "ordinary"
            id_masked = name_masked = ""
            if card:
                idn = parse_id_number(card["id_number"])
                for t in self.tickets.values():
                    if (
                        t["service"] == s["code"]
                        and t["_id"] == idn.value
                        and t["status"] in ("waiting", "called")
                    ):
                        raise Refused(
                            409,
                            "duplicate_active_ticket",
                            f"您已有“{s['name']}”的有效号票 {t['number']}，请勿重复取号",
                        )
                age = idn.age_on(self.now().astimezone(self.tz).date())
                if age is not None and age >= self.elderly_age:
                    priority = "elderly"
                id_masked, name_masked = idn.masked, mask_name(card.get("name", ""))
            elif s.get("real_name") and not body.get("_appointment"):
                raise Refused(422, "id_card_required", f"“{s['name']}”需要刷身份证实名取号")
            status = "waiting"
            if "lease_id" in body:
                lease = self.leases.get(body["lease_id"])
                seq = int(body["seq"])
                if lease is None or not lease["first"] <= seq <= lease["last"]:
                    raise Refused(422, "bad_lease", "号段无效")
                if lease["business_day"] != self.now().astimezone(self.tz).date().isoformat():
                    status = "expired"
                issued_at = body["issued_at"]
            else:
                seq = self.next_seq[s["code"]]
                self.next_seq[s["code"]] = seq + 1
                issued_at = self.now().astimezone(self.tz).isoformat(timespec="seconds")
            tid = f"t{len(self.tickets) + 1}"
            ahead = self._waiting(s["code"])
            t = {
                "id": tid,
                "number": f"{s['prefix']}{seq:03d}",
                "service": s["code"],
                "status": status,
                "issued_at": issued_at,
                "window": None,
                "ahead": ahead,
                "wait_estimate": self._estimate(s["code"], ahead),
                "priority": priority,
                "priority_label": self.classes.get(priority, priority),  # "普通" too, as the server
                "id_masked": id_masked,
                "name_masked": name_masked,
                "qr": f"{self.base_url}/t/{secrets.token_hex(10)}",  # a code, never the id
                "_id": card.get("id_number", "") if card else "",
                "_key": key,
            }
            self.tickets[tid] = t
            if key:
                self.by_key[key] = tid
            return self._public(t)

    @staticmethod
    def _public(t: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in t.items() if not k.startswith("_")}

    def ticket(self, ticket_id: str) -> dict[str, Any]:
        self._check()
        found = self.tickets.get(ticket_id) or next(
            (t for t in self.tickets.values() if t["qr"].endswith(f"/t/{ticket_id}")), None
        )
        if found is None:
            raise Refused(404, "ticket_not_found", f"没有编号为 {ticket_id} 的号票")
        return self._public(found)

    def lookup(self, id_number: str) -> list[dict[str, Any]]:
        self._check()
        value = parse_id_number(id_number).value
        return [
            self._public(t)
            for t in self.tickets.values()
            if t["_id"] == value and t["status"] in ("waiting", "called")
        ]

    def lease(self, service: str, size: int) -> dict[str, Any]:
        self._check()
        with self.lock:
            s = self._service(service)
            first = self.next_seq[service]
            self.next_seq[service] = first + size
            lease = {
                "lease_id": f"L{len(self.leases) + 1}",
                "service": service,
                "prefix": s["prefix"],
                "business_day": self.now().astimezone(self.tz).date().isoformat(),
                "first": first,
                "last": first + size - 1,
                "width": 3,
                "expires_at": (self.now() + timedelta(hours=12)).isoformat(),
            }
            self.leases[lease["lease_id"]] = lease
            return dict(lease)

    def heartbeat(self, body: dict[str, Any]) -> None:
        self._check()
        self.heartbeats.append(body)

    def evaluate(self, body: dict[str, Any]) -> dict[str, Any]:
        self._check()
        with self.lock:
            if body["ticket_id"] not in self.tickets:
                raise Refused(404, "not_found", "没有这张号票")
            if ratings.needs_reason(int(body["level"])) and not body.get("reasons"):
                raise Refused(422, "reason_required", "差评需要至少一项原因")
            unknown = ratings.unknown_reasons(body.get("reasons") or (), ratings.DEFAULT_REASONS)
            if unknown:
                raise Refused(422, "unknown_reason", f"未知的评价原因：{'、'.join(unknown)}")
            if any(
                e["ticket_id"] == body["ticket_id"] and e["channel"] == body["channel"]
                for e in self.evaluations
            ):
                raise Refused(409, "already_rated", "已评价")
            self.evaluations.append(dict(body))
            return dict(body, id=len(self.evaluations))

    def book(self, service: str, slot_start: datetime, id_number: str, name: str = "") -> str:
        """A one-hour booking (what the booking channel does); returns its QR text."""
        self._service(service)
        appt_id = len(self.appointments) + 1
        self.appointments[appt_id] = {
            "id": appt_id,
            "service": service,
            "start": slot_start,
            "end": slot_start + timedelta(hours=1),
            "_id": parse_id_number(id_number).value,
            "name_masked": mask_name(name),
            "code": f"k{appt_id:07d}",
            "status": "booked",
            "ticket_id": None,
        }
        return f"HALLAPPT:1:{appt_id}:k{appt_id:07d}"

    def check_in(self, body: dict[str, Any]) -> dict[str, Any]:
        """The server's check-in rules, simplified: 30 min early, 15 min grace, one ticket."""
        self._check()
        self.checkin_calls += 1
        appt = self._find_appointment(body)
        if appt["status"] == "checked_in":
            ticket = self._public(self.tickets[appt["ticket_id"]])
            message = f"您已签到，号码 {ticket['number']}"
            return {"ticket": ticket, "late": False, "message": message, "created": False}
        now = self.now()
        opens = appt["start"] - timedelta(minutes=30)
        if now < opens:
            start, end, back = (
                t.astimezone(self.tz).strftime("%H:%M") for t in (appt["start"], appt["end"], opens)
            )
            raise Refused(409, "too_early", f"您预约的时段是 {start}–{end}，请于 {back} 后再来签到")
        if now >= appt["end"]:
            appt["status"] = "no_show"
            raise Refused(409, "appointment_missed", "预约时段已过，请直接取号")
        late = now > appt["start"] + timedelta(minutes=15)
        ticket = self.issue(
            {
                "service": appt["service"],
                "channel": "kiosk" if late else "appointment",
                "idempotency_key": f"appointment-{appt['id']}",
                "priority": "ordinary" if late else "appointment",
                "_appointment": True,
            }
        )
        appt["status"], appt["ticket_id"] = "checked_in", ticket["id"]
        return {"ticket": ticket, "late": late, "message": f"签到成功，号码 {ticket['number']}"}

    def _find_appointment(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("qr"):
            parts = str(body["qr"]).split(":")
            if len(parts) != 4 or not parts[2].isdigit():
                raise Refused(422, "invalid_qr", "无法识别该预约二维码")
            appt = self.appointments.get(int(parts[2]))
            if appt is None or appt["code"] != parts[3]:
                raise Refused(
                    404, "appointment_not_found", "没有找到该预约，请核对二维码或使用身份证签到"
                )
            return appt
        value = parse_id_number(str(body.get("id_number") or "")).value
        today = self.now().astimezone(self.tz).date()
        mine = [
            a
            for a in self.appointments.values()
            if a["_id"] == value and a["start"].astimezone(self.tz).date() == today
        ]
        if not mine:
            raise Refused(404, "no_appointment_today", "您今天没有预约，请直接取号")
        return mine[0]
