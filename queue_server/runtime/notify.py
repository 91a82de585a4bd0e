"""'Your turn is near' messages (叫号提醒): a pluggable notifier off the writer thread.

A phone number given at appointment check-in (or later for any waiting ticket) sits in
`ticket_contacts` until the message goes out; then it is erased, as it is when the ticket is
called, finished or cancelled first. Once started (Hall.start_background), the notifier is told
of every commit (a commit listener) and only drops a note in a queue; a worker thread with its
own read connection finds tickets with `notify.ahead_threshold` people ahead or fewer and hands
each message to a sender (by default an HTTP webhook to the hall's SMS gateway,
`notify.webhook_url`) on a small pool, with retries and a doubling pause (queue_server.base.outbound). Nothing here can hold up a call or an issue.

Webhook request: `POST <webhook_url>` with JSON
`{"phone", "text", "hall", "ticket", "service", "service_name", "ahead"}`; any 2xx is success.
"""

from __future__ import annotations

import concurrent.futures
import logging
import queue
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from queue_server.base import outbound
from queue_server.base.db import Event, Tx, connect
from queue_server.base.errors import Conflict
from queue_server.core.tickets import get_row

if TYPE_CHECKING:
    from queue_server.core.context import HallContext
    from queue_server.runtime.hall import Hall

log = logging.getLogger("hall.notify")
WATCHED = ("ticket.", "appointment.", "notify.registered")  # events that may change who is near
Sender = Callable[[str, dict[str, Any], float], None]  # (url, payload, timeout); raise = failed


def webhook_send(url: str, payload: dict[str, Any], timeout: float) -> None:
    """POST the message as JSON; anything but a 2xx answer raises (outbound.DeliveryFailed)."""
    outbound.post_json(url, payload, timeout)


def register_contact(ctx: HallContext, tx: Tx, ticket_id: int, phone: str) -> dict[str, Any]:
    """Remember a phone number for one waiting ticket, until its message is sent."""
    from queue_server.core.phones import check_phone, mask_phone

    value = check_phone(phone)
    assert value is not None
    row = get_row(tx.conn, ticket_id)
    if row["status"] != "waiting":
        raise Conflict(f"号票 {row['number']} 不在等候中", "not_waiting")
    tx.execute(
        "INSERT OR REPLACE INTO ticket_contacts (ticket_id, phone, phone_masked) VALUES (?,?,?)",
        (ticket_id, value, mask_phone(value)),
    )
    out = {"ticket_id": ticket_id, "phone_masked": mask_phone(value), "state": "pending"}
    tx.emit("notify.registered", out)
    return out


class Notifier:
    def __init__(self, hall: Hall, sender: Sender | None = None) -> None:
        self.hall = hall
        self.sender = sender or webhook_send
        self._notes: queue.SimpleQueue[bool | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pool = concurrent.futures.ThreadPoolExecutor(2, thread_name_prefix="hall-notify")
        self._in_flight: set[int] = set()
        self._lock = threading.Lock()
        self._started = False
        self._stopped = False

    def start(self) -> None:
        """Begin sending (Hall.start_background): from now on, commits that may bring a ticket
        near are scanned, and so are numbers still pending from before (a restart)."""
        self._started = True
        if self.hall.ctx.config.notify.webhook_url:
            self._start_worker()
            self._notes.put_nowait(True)

    # -- the writer's side: never blocks ----------------------------------------------------
    def on_commit(self, events: list[Event]) -> None:
        """A commit listener (Hall.add_commit_listener): note that a scan may be due."""
        if not self._started or self._stopped or not self.hall.ctx.config.notify.webhook_url:
            return
        if any(ev.type.startswith(WATCHED) for ev in events):
            self._start_worker()
            self._notes.put_nowait(True)

    def _start_worker(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="hall-notify-scan", daemon=True
                    )
                    self._thread.start()

    def stop(self) -> None:
        self._stopped = True
        if self._thread is not None:
            self._notes.put(None)
            self._thread.join(timeout=5)
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- the worker -----------------------------------------------------------------------
    def _run(self) -> None:
        conn = connect(self.hall.db.path, readonly=True)
        try:
            while True:
                note = self._notes.get()
                while note is not None:  # coalesce a burst of commits into one scan
                    try:
                        note = self._notes.get_nowait()
                    except queue.Empty:
                        break
                if note is None:
                    return
                try:
                    self.scan(conn)
                except Exception:  # noqa: BLE001 - the worker must outlive a bad scan
                    log.exception("notification scan failed")
        finally:
            conn.close()

    def scan(self, conn: Any) -> None:
        ctx = self.hall.ctx
        cfg = ctx.config.notify
        rows = conn.execute(
            "SELECT t.*, c.phone AS contact_phone FROM ticket_contacts c"
            " JOIN tickets t ON t.id = c.ticket_id WHERE c.state = 'pending'"
        ).fetchall()
        for row in rows:
            tid = row["id"]
            if tid in self._in_flight:
                continue
            if row["status"] != "waiting":
                self._settle(tid, "moot", 0)  # called or ended first: just forget the number
                continue
            ahead = ctx.ahead(conn, row)
            if ahead > cfg.ahead_threshold or not row["contact_phone"]:
                continue
            svc = ctx.config.service(row["service"])
            values = {
                "hall": ctx.config.hall.name,
                "number": row["number"],
                "service": svc.name if svc else row["service"],
                "ahead": ahead,
            }
            try:
                text = cfg.text.format(**values)
            except (KeyError, IndexError, ValueError):
                text = f"【{values['hall']}】您的号 {row['number']} 前面还有 {ahead} 人。"
            payload = {
                "phone": row["contact_phone"],
                "text": text,
                "hall": values["hall"],
                "ticket": row["number"],
                "service": row["service"],
                "service_name": values["service"],
                "ahead": ahead,
            }
            self._in_flight.add(tid)
            self._pool.submit(self._deliver, tid, payload)

    def _deliver(self, tid: int, payload: dict[str, Any]) -> None:
        cfg = self.hall.ctx.config.notify
        attempts = 0

        def attempt() -> None:
            nonlocal attempts
            attempts += 1
            try:
                self.sender(cfg.webhook_url, payload, cfg.timeout_seconds)
            except Exception as err:
                log.warning(
                    "notification for ticket %s failed (%s), attempt %d", tid, err, attempts
                )
                raise

        ok = False
        if not self._stopped:
            try:
                outbound.RetryPolicy(cfg.retry_seconds).run(
                    attempt, cfg.retries + 1, give_up=lambda: self._stopped
                )
                ok = True
            except Exception:  # noqa: BLE001 - any failure is retried, then recorded
                pass
        self._settle(tid, "sent" if ok else "failed", attempts)

    def _settle(self, tid: int, state: str, attempts: int) -> None:
        """Record the outcome and erase the phone number (through the writer, not waiting)."""

        def op(tx: Tx) -> None:
            row = tx.one("SELECT phone_masked FROM ticket_contacts WHERE ticket_id = ?", (tid,))
            tx.execute(
                "UPDATE ticket_contacts SET phone = NULL, state = ?, attempts = ?,"
                " notified_at = CASE WHEN ? = 'sent' THEN ? ELSE notified_at END"
                " WHERE ticket_id = ? AND state = 'pending'",
                (state, attempts, state, tx.now_iso, tid),
            )
            if state in ("sent", "failed") and row is not None:
                tx.emit(
                    f"notify.{state}",
                    {"ticket_id": tid, "phone_masked": row["phone_masked"], "attempts": attempts},
                )

        fut = self.hall.db.submit(op)
        fut.add_done_callback(lambda _f: self._in_flight.discard(tid))
