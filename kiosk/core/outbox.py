"""The kiosk's local store: number leases and what it issued offline, waiting to be synced.

One SQLite file (sqlite-utils), one lock: the issuing worker and the sync thread share it.
Nothing here holds a full ID number or name; rows carry masked forms only. What the server
needs of an offline real-name ticket's ID card is kept sealed to the server's public key
(halldomain.sealing): it survives a restart, and nothing on the kiosk can open it.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils.db import NotFoundError

PENDING, SYNCED, REJECTED = "pending", "synced", "rejected"


@dataclass(frozen=True)
class Lease:
    lease_id: str
    service: str
    prefix: str
    business_day: str
    first: int
    last: int
    width: int
    expires_at: str
    next_seq: int
    granted: str = ""  # the lease as the server granted it (JSON, with its proof)
    seal_key: str = ""  # the server's public key that offline ID cards are sealed to

    @property
    def remaining(self) -> int:
        return max(0, self.last - self.next_seq + 1)

    def copy(self) -> dict[str, Any] | None:
        """The signed copy the server can re-enter after a restore lost the lease."""
        return dict(json.loads(self.granted)) if self.granted else None

    def live_at(self, now_iso: str) -> bool:
        return not self.expires_at or not expired(self.expires_at, now_iso)


def expired(expires_at: str, now_iso: str) -> bool:
    """Whether `now_iso` is past `expires_at`, compared as instants (offsets may differ)."""
    try:
        return datetime.fromisoformat(now_iso) >= datetime.fromisoformat(expires_at)
    except ValueError:
        return True  # an unreadable expiry: do not issue from it


@dataclass(frozen=True)
class OfflineTicket:
    key: str
    service: str
    lease_id: str
    seq: int
    number: str
    issued_at: str
    status: str
    server_id: str = ""
    server_number: str = ""
    name_masked: str = ""
    id_masked: str = ""
    priority: str = "ordinary"
    attempts: int = 0
    last_error: str = ""
    sealed_card: str = ""


class Outbox:
    """Leases and offline tickets in SQLite; every method is one short transaction."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        self.db = sqlite_utils.Database(conn)
        self._lock = threading.RLock()
        self._create()

    def _create(self) -> None:
        with self._lock:
            self.db.table("leases").create(
                {
                    "lease_id": str,
                    "service": str,
                    "prefix": str,
                    "business_day": str,
                    "first": int,
                    "last": int,
                    "width": int,
                    "expires_at": str,
                    "next_seq": int,
                    "granted": str,
                    "seal_key": str,
                },
                pk="lease_id",
                if_not_exists=True,
            )
            self.db.table("tickets").create(
                {
                    "key": str,
                    "service": str,
                    "lease_id": str,
                    "seq": int,
                    "number": str,
                    "issued_at": str,
                    "status": str,
                    "server_id": str,
                    "server_number": str,
                    "name_masked": str,
                    "id_masked": str,
                    "priority": str,
                    "attempts": int,
                    "last_error": str,
                    "sealed_card": str,
                },
                pk="key",
                if_not_exists=True,
            )
            # outbox files from before these columns existed
            for table, column in (
                ("leases", "granted"),
                ("leases", "seal_key"),
                ("tickets", "sealed_card"),
            ):
                if column not in self.db.table(table).columns_dict:
                    self.db.table(table).add_column(column, str, not_null_default="")
            self.db.table("evaluations").create(
                {"key": str, "ticket_key": str, "ticket_id": str, "body": str, "status": str},
                pk="key",
                if_not_exists=True,
            )

    @contextmanager
    def _tx(self) -> Iterator[sqlite_utils.Database]:
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    # leases
    def add_lease(self, data: dict[str, Any]) -> Lease:
        row: dict[str, Any] = {
            "lease_id": str(data["lease_id"]),
            "service": str(data["service"]),
            "prefix": str(data["prefix"]),
            "business_day": str(data["business_day"]),
            "first": int(data["first"]),
            "last": int(data["last"]),
            "width": int(data.get("width") or 3),
            "expires_at": str(data.get("expires_at") or ""),
            "next_seq": int(data["first"]),
            "granted": json.dumps(
                {k: v for k, v in data.items() if k != "seal_key"}, ensure_ascii=False
            )
            if data.get("proof")
            else "",
            "seal_key": str(data.get("seal_key") or ""),
        }
        with self._tx() as db:
            db.table("leases").insert(row, ignore=True)
        return Lease(**row)

    def leases(self, service: str | None = None) -> list[Lease]:
        with self._lock:
            where = "service = ?" if service else None
            rows = self.db.table("leases").rows_where(
                where, [service] if service else [], order_by="first"
            )
            return [Lease(**r) for r in rows]

    def usable_leases(self, service: str, business_day: str, now_iso: str) -> list[Lease]:
        return [
            lease
            for lease in self.leases(service)
            if lease.business_day == business_day and lease.remaining > 0 and lease.live_at(now_iso)
        ]

    def retire_leases(self, lease_ids: list[str]) -> None:
        """Issue no more from these (stale: the server was restored); their tickets still sync."""
        with self._tx() as db:
            for lease_id in lease_ids:
                db.execute("UPDATE leases SET next_seq = last + 1 WHERE lease_id = ?", [lease_id])

    def used_up(self) -> list[dict[str, Any]]:
        """Leases no number is left in (used or retired) with the highest number issued."""
        with self._lock:
            rows = self.db.execute(
                "SELECT l.lease_id, COALESCE(MAX(t.seq), l.first - 1) FROM leases l"
                " LEFT JOIN tickets t ON t.lease_id = l.lease_id"
                " WHERE l.next_seq > l.last GROUP BY l.lease_id"
            ).fetchall()
            return [{"lease_id": str(r[0]), "used_to": int(r[1])} for r in rows]

    def drop_leases_before(self, business_day: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM leases WHERE business_day < ?", [business_day])

    # offline tickets
    def take_number(
        self,
        key: str,
        service: str,
        business_day: str,
        now_iso: str,
        issued_at: str,
        name_masked: str = "",
        id_masked: str = "",
        priority: str = "ordinary",
        seal: Callable[[Lease], str] | None = None,
    ) -> OfflineTicket | None:
        """Issue the next leased number for `service` under `key`; the same key gives the same
        ticket. `seal` gives the sealed ID card to keep with it (written in the same step, so
        a kiosk killed right after printing still syncs the ticket whole)."""
        with self._tx() as db:
            existing = self._get(db, key)
            if existing:
                return existing
            rows = db.query(
                "SELECT * FROM leases WHERE service = ? AND business_day = ? AND next_seq <= last"
                " ORDER BY first",
                [service, business_day],
            )
            lease = next((x for x in (Lease(**r) for r in rows) if x.live_at(now_iso)), None)
            if lease is None:
                return None
            seq = lease.next_seq
            db.execute(
                "UPDATE leases SET next_seq = ? WHERE lease_id = ?", [seq + 1, lease.lease_id]
            )
            number = f"{lease.prefix}{seq:0{lease.width}d}"
            row: dict[str, Any] = {
                "key": key,
                "service": service,
                "lease_id": lease.lease_id,
                "seq": seq,
                "number": number,
                "issued_at": issued_at,
                "status": PENDING,
                "server_id": "",
                "server_number": "",
                "name_masked": name_masked,
                "id_masked": id_masked,
                "priority": priority,
                "attempts": 0,
                "last_error": "",
                "sealed_card": seal(lease) if seal else "",
            }
            db.table("tickets").insert(row)
            return OfflineTicket(**row)

    @staticmethod
    def _get(db: sqlite_utils.Database, key: str) -> OfflineTicket | None:
        try:
            return OfflineTicket(**db.table("tickets").get(key))
        except NotFoundError:
            return None

    def lease(self, lease_id: str) -> Lease | None:
        with self._lock:
            try:
                return Lease(**self.db.table("leases").get(lease_id))
            except NotFoundError:
                return None

    def get(self, key: str) -> OfflineTicket | None:
        with self._lock:
            return self._get(self.db, key)

    def pending(self) -> list[OfflineTicket]:
        with self._lock:
            rows = self.db.table("tickets").rows_where(
                "status = ?", [PENDING], order_by="issued_at, seq"
            )
            return [OfflineTicket(**r) for r in rows]

    def tickets(self) -> list[OfflineTicket]:
        with self._lock:
            return [
                OfflineTicket(**r)
                for r in self.db.table("tickets").rows_where(order_by="issued_at, seq")
            ]

    def mark_synced(self, key: str, server_id: str, server_number: str) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE tickets SET status = ?, server_id = ?, server_number = ? WHERE key = ?",
                [SYNCED, server_id, server_number, key],
            )

    def mark_failed(self, key: str, error: str, final: bool) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE tickets SET attempts = attempts + 1, last_error = ?,"
                " status = CASE WHEN ? THEN ? ELSE status END WHERE key = ?",
                [error[:200], final, REJECTED, key],
            )

    def counts(self) -> dict[str, int]:
        with self._lock:
            rows = self.db.execute(
                "SELECT status, count(*) FROM tickets GROUP BY status"
            ).fetchall()
            out = {PENDING: 0, SYNCED: 0, REJECTED: 0}
            out.update({str(s): int(n) for s, n in rows})
            ev = self.db.execute("SELECT count(*) FROM evaluations WHERE status = ?", [PENDING])
            out["evaluations_pending"] = int(ev.fetchone()[0])
            return out

    # evaluations (store and forward; nothing lost)
    def add_evaluation(
        self, key: str, ticket_key: str, ticket_id: str, body: dict[str, Any]
    ) -> None:
        with self._tx() as db:
            db.table("evaluations").insert(
                {
                    "key": key,
                    "ticket_key": ticket_key,
                    "ticket_id": ticket_id,
                    "body": json.dumps(body, ensure_ascii=False),
                    "status": PENDING,
                },
                ignore=True,
            )

    def pending_evaluations(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self.db.table("evaluations").rows_where(
                "status = ?", [PENDING], order_by="rowid"
            )
            return [dict(r, body=json.loads(r["body"])) for r in rows]

    def mark_evaluation(self, key: str, status: str) -> None:
        with self._tx() as db:
            db.execute("UPDATE evaluations SET status = ? WHERE key = ?", [status, key])
