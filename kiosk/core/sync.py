"""Store and forward: offline tickets and evaluations to the server, exactly once, in order.

Each round (every few seconds, in its own thread) refreshes the hall and services, pushes the
outbox, tops up number leases and sends a heartbeat. A ticket leaves the outbox only when the
server has answered for its idempotency key, so a retry after a lost answer returns the same
ticket instead of a second one. Each offline ticket goes with its lease's signed copy (so a
server restored from a backup that lost the lease still accepts it) and its sealed ID card.
Leases the server calls stale (a restore) are retired: no new number comes from them.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from .api import Refused, ServerApi, Unreachable
from .issuer import Issuer
from .models import HallInfo, ServiceInfo
from .outbox import REJECTED, SYNCED, Outbox
from .settings import KioskSettings
from .state import KioskState

log = logging.getLogger("kiosk.sync")

HealthFn = Callable[[], dict[str, dict[str, str]]]


class Syncer:
    def __init__(
        self,
        api: ServerApi,
        outbox: Outbox,
        state: KioskState,
        issuer: Issuer,
        settings: KioskSettings,
        health: HealthFn = dict,
        screen: Callable[[], str] = lambda: "home",
    ) -> None:
        self.api = api
        self.outbox = outbox
        self.state = state
        self.issuer = issuer
        self.settings = settings
        self.health = health
        self.screen = screen
        self.leases_supported = True
        self._leases_checked = False
        self._last_refusal = ""

    def refresh(self) -> None:
        """Hall info and services with their waiting counts; marks the server reachable."""
        try:
            hall = self.api.hall()
        except Refused:
            hall = None  # an older server without /hall: keep the defaults
        services = self.api.services()
        if hall is not None:
            self.state.set_hall(HallInfo.from_json(hall))
        self.state.set_services([ServiceInfo.from_json(s) for s in services])
        self.state.mark_online()

    def push_tickets(self) -> int:
        """Send every pending offline ticket, oldest first; returns how many were synced."""
        synced = 0
        for t in self.outbox.pending():
            body: dict[str, Any] = {
                "service": t.service,
                "channel": "kiosk",
                "idempotency_key": t.key,
                "lease_id": t.lease_id,
                "seq": t.seq,
                "issued_at": t.issued_at,
            }
            lease = self.outbox.lease(t.lease_id)
            copy = lease.copy() if lease else None
            if copy:
                body["lease"] = copy
            card = self.issuer.pending_cards.get(t.key)
            if t.sealed_card:
                body["id_card_sealed"] = t.sealed_card
            elif card:
                body["id_card"] = card
            elif t.priority != "ordinary":
                body["priority"] = t.priority
            try:
                data = self.api.issue(body)
            except Unreachable as err:
                self.outbox.mark_failed(t.key, str(err), final=False)
                raise
            except Refused as err:
                log.warning("offline ticket %s refused: %s %s", t.number, err.status, err.code)
                self.outbox.mark_failed(t.key, f"{err.status} {err.code}", final=True)
                self.issuer.pending_cards.pop(t.key, None)
                continue
            number = str(data.get("number") or "")
            if number != t.number:  # the server could not take the printed number
                log.warning("offline ticket %s is %s on the server", t.number, number)
            self.outbox.mark_synced(t.key, str(data.get("id") or ""), number)
            self.issuer.pending_cards.pop(t.key, None)
            synced += 1
        return synced

    def push_evaluations(self) -> None:
        for ev in self.outbox.pending_evaluations():
            ticket_id = ev["ticket_id"]
            if not ticket_id and ev["ticket_key"]:
                t = self.outbox.get(ev["ticket_key"])
                if t is None or t.status == REJECTED:
                    self.outbox.mark_evaluation(ev["key"], REJECTED)
                    continue
                if t.status != SYNCED:
                    continue  # its ticket is not on the server yet
                ticket_id = t.server_id
            try:
                tid: int | str = int(ticket_id) if str(ticket_id).isdigit() else ticket_id
                self.api.evaluate(dict(ev["body"], ticket_id=tid))
            except Refused as err:
                # 409: this ticket was already rated on this channel, which is what we wanted.
                self.outbox.mark_evaluation(ev["key"], SYNCED if err.status == 409 else REJECTED)
                continue
            self.outbox.mark_evaluation(ev["key"], SYNCED)

    def retire_stale_leases(self) -> None:
        """Tell the server which leases this kiosk holds and ask which are stale (the server
        was restored): no more numbers from those. Once after each start and reconnect."""
        check = getattr(self.api, "check_leases", None)
        if check is None:
            return
        copies = [c for lease in self.outbox.leases() if (c := lease.copy())][-200:]
        used_up = self.outbox.used_up()[-200:]
        try:
            answer = check(copies, used_up).get("stale") or []
        except Refused as err:
            log.info("lease check refused: %s", err.code)
            self._leases_checked = err.status in (404, 405)  # an older server: ask no more
            return
        self._leases_checked = True
        done = {u["lease_id"] for u in used_up}  # retired already (or used up): nothing to do
        stale = [str(x) for x in answer if str(x) not in done]
        if stale:
            log.warning("the server calls %d leases stale: no more numbers from them", len(stale))
            self.outbox.retire_leases(stale)
            with contextlib.suppress(Refused):  # their unused numbers go back to the quota
                check(copies, self.outbox.used_up()[-200:])

    def top_up_leases(self) -> None:
        if not self.leases_supported:
            return
        day = self.state.business_day()
        self.outbox.drop_leases_before(day)
        if not self._leases_checked:
            self.retire_stale_leases()
        now = self.state.clock().isoformat()
        for s in self.state.snap.services:
            left = sum(lease.remaining for lease in self.outbox.usable_leases(s.code, day, now))
            if left >= self.settings.lease_low_water:
                continue
            try:
                self.outbox.add_lease(self.api.lease(s.code, self.settings.lease_size))
            except Refused as err:
                if err.status in (404, 405):
                    log.warning("server has no /kiosk/leases: offline issuing is disabled")
                    self.leases_supported = False
                    return
                log.info("no lease for %s: %s", s.code, err.code)
                if err.code == "lease_limit":
                    self._leases_checked = False  # tell the server again what this kiosk holds

    def heartbeat_body(self) -> dict[str, Any]:
        counts = self.outbox.counts()
        return {
            "health": self.health(),
            "state": {
                "outbox": counts["pending"],
                "outbox_rejected": counts["rejected"],
                "evaluations_pending": counts["evaluations_pending"],
                "online": self.state.snap.online,
                "screen": self.screen(),
            },
        }

    def heartbeat(self) -> None:
        try:
            self.api.heartbeat(self.heartbeat_body())
        except Refused as err:
            log.info("heartbeat refused: %s", err.code)

    def step(self, heartbeat: bool = True) -> bool:
        """One sync round; returns whether the server answered."""
        if not self.state.snap.online:
            self._leases_checked = False  # after a cut the server may have been restored
        try:
            self.refresh()
            self.push_tickets()
            self.push_evaluations()
            self.top_up_leases()
            if heartbeat:
                self.heartbeat()
            return True
        except Unreachable:
            self.state.mark_offline()
            return False
        except Refused as err:  # e.g. 401: a revoked token; staff see it on the admin page
            if err.code != self._last_refusal:
                log.warning("server refused the kiosk: %s %s", err.status, err.code)
            self._last_refusal = err.code
            return False


class SyncLoop:
    """Runs `Syncer.step` in a daemon thread; `kick()` asks for a round now (e.g. printer trouble)."""

    def __init__(self, syncer: Syncer, interval_s: float, heartbeat_s: float) -> None:
        self.syncer = syncer
        self.interval_s = interval_s
        self.heartbeat_s = heartbeat_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kiosk-sync", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def kick(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        import time

        last_hb = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            beat = self._wake.is_set() or now - last_hb >= self.heartbeat_s
            self._wake.clear()
            try:
                if self.syncer.step(heartbeat=beat) and beat:
                    last_hb = now
            except Exception:  # a bug here must not stop syncing; it is logged and retried
                log.exception("sync round failed")
            self._wake.wait(self.interval_s)
