"""The running hall: storage, configuration, clock, event fan-out and credentials together."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import orjson

from queue_server.admin.accounts import Principal, lookup_token
from queue_server.base import audit
from queue_server.base.clock import Clock, FixedClock
from queue_server.base.config import HallConfig, load_config, parse_config
from queue_server.base.db import CommitListener, Database, Tx
from queue_server.base.errors import Unauthorized
from queue_server.core.context import RECENT_SERVICE_TIMES, HallContext, WaitPredictor
from queue_server.core.predictor import Predictor
from queue_server.ratings import hotline, upload
from queue_server.runtime import notify, upkeep
from queue_server.runtime.events import Broadcaster

log = logging.getLogger("hall")
# Seconds the wait predictor may reuse hall-wide query results on a running server.
PREDICTOR_QUERY_TTL_S = 1.0
T = TypeVar("T")


class Hall:
    """One hall's running state. Collaborators are given here or built here, and wired once:

    - `predictor`: the wait estimate (default queue_server.core.predictor.Predictor);
    - `notify_sender`: how a 'your turn is near' message leaves (default: the webhook);
    - commit listeners (`add_commit_listener`): the event broadcaster and the notifier;
    - background work of a running server (`start_background`): the notifier's worker,
      housekeeping (queue_server.runtime.upkeep), the provincial uploader (queue_server.ratings.upload) and,
      with a `[city]` section, the link to the city broker (queue_server.runtime.city).
    """

    def __init__(
        self,
        db_path: str | Path,
        config_path: str | Path | None = None,
        clock: Clock | None = None,
        config: HallConfig | None = None,
        *,
        predictor: WaitPredictor | None = None,
        notify_sender: notify.Sender | None = None,
    ) -> None:
        self._clock_override = clock
        self._tokens: dict[str, Principal] = {}
        self._background: list[asyncio.Task[None]] = []
        self.city: Any = None  # queue_server.runtime.city.CityLink while linked to a city broker
        self.db = Database(db_path, self._now_iso)
        self.config_ignored = False
        stored = self.db.row("SELECT value FROM meta WHERE key = 'config'")
        if stored is None:
            cfg = config or load_config(config_path)
            self.clock = clock or Clock(cfg.hall.timezone)
            key = secrets.token_bytes(32)
            self.db.write(lambda tx: self._initialise(tx, cfg, key))
        else:
            cfg = parse_config(orjson.loads(stored["value"]), "stored configuration")
            self.clock = clock or Clock(cfg.hall.timezone)
            self.config_ignored = config_path is not None or config is not None
        key_row = self.db.row("SELECT value FROM meta WHERE key = 'id_hash_key'")
        assert key_row is not None
        day_row = self.db.row("SELECT value FROM meta WHERE key = 'business_day'")
        # Query results may be reused briefly on a running server, never on a test's clock.
        ttl = 0.0 if isinstance(self.clock, FixedClock) else PREDICTOR_QUERY_TTL_S
        if predictor is None:
            predictor = Predictor()  # wait estimate (docs/APPOINTMENTS.md)
            predictor.ttl = ttl
        self.ctx = HallContext(
            cfg,
            self.clock,
            bytes.fromhex(key_row["value"]),
            current_day=day_row["value"] if day_row else "",
            predictor=predictor,
            presence=self.window_presence,  # which windows have staff on duty
            presence_ttl=ttl,
        )
        self._load_service_times()
        self.broadcaster = Broadcaster()
        self.notifier = notify.Notifier(self, notify_sender)  # 'your turn is near'
        self.add_commit_listener(self.broadcaster.publish_threadsafe)
        self.add_commit_listener(self.notifier.on_commit)
        self.db.write(self._roll_day)

    @property
    def config(self) -> HallConfig:
        return self.ctx.config

    def _now_iso(self) -> str:
        clock = getattr(self, "clock", None) or self._clock_override or Clock()
        return clock.iso(clock.timestamp())

    def _initialise(self, tx: Tx, cfg: HallConfig, key: bytes) -> None:
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('config', ?), ('id_hash_key', ?)",
            (cfg.model_dump_json(), key.hex()),
        )
        for w in cfg.windows:
            tx.execute(
                "INSERT INTO windows (no, status, status_since) VALUES (?, ?, ?)",
                (w.no, w.status, tx.now_iso),
            )
        audit.append(tx.conn, tx.now_iso, "system", "hall.initialise", cfg.hall.name)

    def _load_service_times(self) -> None:
        for svc in self.config.services:
            rows = self.db.rows(
                "SELECT (finished_ts - called_ts) / 60.0 AS m FROM tickets WHERE status = 'done'"
                " AND service = ? AND called_ts IS NOT NULL ORDER BY finished_ts DESC LIMIT ?",
                (svc.code, RECENT_SERVICE_TIMES),
            )
            for r in reversed(rows):
                self.ctx.record_service_time(svc.code, r["m"])

    def _roll_day(self, tx: Tx) -> None:
        self.ctx.roll_day(tx)

    # -- running operations ----------------------------------------------------------------
    def _maybe_roll(self) -> None:
        if self.clock.business_day() != self.ctx.current_day:
            self.db.submit(self._roll_day)

    async def run(self, op: Callable[[Tx], T]) -> T:
        """Run one operation in the writer and wait for its commit."""
        self._maybe_roll()
        done: asyncio.Future[T] = self.db.submit_async(op)  # resolved on this loop
        return await done

    def run_sync(self, op: Callable[[Tx], T]) -> T:
        self._maybe_roll()
        return self.db.write(op)

    def audit(
        self, tx: Tx, actor: str, action: str, target: str = "", result: str = "ok", **detail: Any
    ) -> None:
        audit.append(tx.conn, tx.now_iso, actor, action, target, result, detail)

    # -- credentials -------------------------------------------------------------------------
    def authenticate(self, token: str | None) -> Principal:
        if not token:
            raise Unauthorized("缺少访问令牌", "missing_token")
        principal = self._tokens.get(token)
        if principal is None:
            principal = lookup_token(self.db.reader, token)
            if principal is None:
                raise Unauthorized("访问令牌无效或已撤销", "invalid_token")
            self._tokens[token] = principal
        idle = self.config.security.session_idle_minutes * 60
        now = time.time()
        idle_for = now - principal.last_used_ts
        if principal.kind == "session" and principal.last_used_ts and idle_for > idle:
            # Wait for the commit: a request racing in must not re-cache the session.
            self.revoke(token).result(timeout=10)
            raise Unauthorized("登录已超时，请重新登录", "session_expired")
        if principal.role == "staff" and principal.window is not None and idle_for > idle:
            self.ctx.invalidate_capacity()  # someone is back on duty at the window
        if principal.kind == "session" or principal.role == "staff":
            principal.last_used_ts = now  # in memory; sessions' are persisted
        return principal

    def window_presence(self, conn: sqlite3.Connection | None = None) -> dict[int, float]:
        """Window no -> wall time a staff credential bound to it was last used: the cached
        credentials (fresh), and login sessions in the table (a login not yet used again, or
        one from before a restart). Revoked credentials (logout, expiry) do not count."""
        idle = self.config.security.session_idle_minutes * 60
        seen: dict[int, float] = {}
        # The caller's connection: the writer's own inside an operation.
        for no, used in (conn or self.db.reader).execute(
            "SELECT window, MAX(last_used_ts) FROM tokens WHERE role = 'staff'"
            " AND kind = 'session' AND window IS NOT NULL AND revoked_at IS NULL"
            " AND last_used_ts >= ? GROUP BY window",
            (time.time() - idle - 3600,),
        ):
            seen[no] = used
        for p in list(self._tokens.values()):
            if p.role == "staff" and p.window is not None and p.last_used_ts:
                seen[p.window] = max(seen.get(p.window, 0.0), p.last_used_ts)
        return seen

    def forget_token(self, token: str) -> None:
        self._tokens.pop(token, None)

    def cached_token_ids(self) -> set[int]:
        """Ids of the credentials held in the in-memory cache."""
        return {p.token_id for p in list(self._tokens.values())}

    def forget_token_ids(self, token_ids: Iterable[int]) -> None:
        """Drop cached credentials by token id (revoked in the database by the caller)."""
        ids = set(token_ids)
        if not ids:
            return
        for token, p in list(self._tokens.items()):
            if p.token_id in ids:
                self._tokens.pop(token, None)

    def revoke(self, token: str) -> concurrent.futures.Future[Any]:
        from queue_server.admin.accounts import token_hash

        gone = self._tokens.pop(token, None)
        if gone is not None and gone.window is not None:
            self.ctx.invalidate_capacity()  # the window may have nobody on duty now
        h = token_hash(token)
        return self.db.submit(
            lambda tx: tx.execute(
                "UPDATE tokens SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL",
                (tx.now_iso, h),
            )
        )

    def session_last_use(self) -> dict[int, float]:
        """Last-use time of each cached login session by token id (fresher than the table)."""
        return {p.token_id: p.last_used_ts for p in self._tokens.values() if p.kind == "session"}

    def persist_session_activity(self) -> None:
        """Write the in-memory last-use times of sessions (so idle timeouts survive a restart)."""
        sessions = [
            (p.last_used_ts, p.token_id) for p in self._tokens.values() if p.kind == "session"
        ]
        if sessions:
            self.db.submit(
                lambda tx: tx.conn.executemany(
                    "UPDATE tokens SET last_used_ts = ? WHERE id = ?", sessions
                )
            )

    # -- wiring and background work ----------------------------------------------------------
    def add_commit_listener(self, listener: CommitListener) -> None:
        """Tell `listener` the events of every commit (on the writer thread; must not block)."""
        self.db.add_commit_listener(listener)

    async def start_background(self) -> None:
        """Start a running server's background work, all of it here: events fan out on this
        loop, the notifier sends, the retention purge runs once, then housekeeping, the
        provincial uploader and the 12345 hand-off sender run until `stop_background`."""
        self.broadcaster.bind(asyncio.get_running_loop())
        self.notifier.start()
        await upkeep.on_start(self)
        self._background = [
            asyncio.create_task(upkeep.run_forever(self), name="hall-housekeeping"),
            asyncio.create_task(upload.run_forever(self), name="hall-upload"),
            asyncio.create_task(hotline.run_forever(self), name="hall-hotline"),
        ]
        if self.config.city is not None and self.city is None:
            from queue_server.runtime.city import CityLink  # only halls linked to a city load MQTT

            self.city = CityLink(self, self.config.city)
            self.add_commit_listener(self.city.on_commit)
            self.city.start()

    async def stop_background(self) -> None:
        """Stop housekeeping, the uploader and the city link; save session activity."""
        if self.city is not None:
            await asyncio.to_thread(self.city.stop)
        tasks, self._background = self._background, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.persist_session_activity()

    def close(self) -> None:
        self.notifier.stop()
        self.db.close()
