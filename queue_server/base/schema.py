"""Named schema migrations, applied at start-up (sqlite-utils `Migrations`)."""

from __future__ import annotations

import json

from sqlite_utils import Database, Migrations

MIGRATIONS = Migrations("hall")


@MIGRATIONS()
def m001_core(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

        CREATE TABLE windows (
            no INTEGER PRIMARY KEY,
            status TEXT NOT NULL,
            status_since TEXT NOT NULL,
            staff TEXT,
            interleave_count INTEGER NOT NULL DEFAULT 0
        );

        CREATE TABLE counters (
            business_day TEXT NOT NULL,
            service TEXT NOT NULL,
            next_seq INTEGER NOT NULL,
            issued INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (business_day, service)
        );

        CREATE TABLE leases (
            id TEXT PRIMARY KEY,
            device TEXT NOT NULL,
            business_day TEXT NOT NULL,
            service TEXT NOT NULL,
            first INTEGER NOT NULL,
            last INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL
        );

        CREATE TABLE tickets (
            id INTEGER PRIMARY KEY,
            business_day TEXT NOT NULL,
            number TEXT NOT NULL,
            seq INTEGER NOT NULL,
            service TEXT NOT NULL,
            original_service TEXT NOT NULL,
            status TEXT NOT NULL,
            priority TEXT NOT NULL,
            channel TEXT NOT NULL,
            issued_at TEXT NOT NULL,
            issued_ts REAL NOT NULL,
            target_window INTEGER,
            window INTEGER,
            staff TEXT,
            called_at TEXT,
            called_ts REAL,
            finished_at TEXT,
            finished_ts REAL,
            skipped_ts REAL,
            call_count INTEGER NOT NULL DEFAULT 0,
            transfers INTEGER NOT NULL DEFAULT 0,
            call_reason TEXT,
            id_hash TEXT,
            id_masked TEXT,
            name_masked TEXT,
            idempotency_key TEXT,
            device TEXT,
            lease_id TEXT,
            UNIQUE (business_day, number)
        );
        CREATE UNIQUE INDEX tickets_idempotency ON tickets (idempotency_key)
            WHERE idempotency_key IS NOT NULL;
        CREATE INDEX tickets_queue ON tickets (status, service, priority, issued_ts);
        CREATE INDEX tickets_target ON tickets (status, target_window, issued_ts)
            WHERE target_window IS NOT NULL;
        CREATE INDEX tickets_window ON tickets (window, status);
        CREATE INDEX tickets_id_hash ON tickets (id_hash, service, status)
            WHERE id_hash IS NOT NULL;
        CREATE INDEX tickets_day ON tickets (business_day, status);

        CREATE TABLE events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            ts TEXT NOT NULL,
            type TEXT NOT NULL,
            data TEXT NOT NULL
        );

        CREATE TABLE evaluations (
            id INTEGER PRIMARY KEY,
            ticket_id INTEGER NOT NULL REFERENCES tickets (id),
            ticket_number TEXT NOT NULL,
            business_day TEXT NOT NULL,
            service TEXT NOT NULL,
            window INTEGER,
            staff TEXT,
            channel TEXT NOT NULL,
            level INTEGER NOT NULL,
            reasons TEXT NOT NULL,
            comment TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            upload_status TEXT NOT NULL DEFAULT 'pending',
            UNIQUE (ticket_id, channel)
        );

        CREATE TABLE accounts (
            id INTEGER PRIMARY KEY,
            username TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            role TEXT NOT NULL,
            window INTEGER,
            staff_no TEXT NOT NULL DEFAULT '',
            password_hash TEXT NOT NULL,
            failed_logins INTEGER NOT NULL DEFAULT 0,
            locked_until REAL,
            disabled INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL
        );

        CREATE TABLE tokens (
            id INTEGER PRIMARY KEY,
            token_hash TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            role TEXT NOT NULL,
            window INTEGER,
            name TEXT NOT NULL,
            account_id INTEGER REFERENCES accounts (id),
            created_at TEXT NOT NULL,
            last_used_ts REAL,
            revoked_at TEXT
        );

        CREATE TABLE device_health (
            device TEXT PRIMARY KEY,
            role TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            health TEXT NOT NULL,
            state TEXT NOT NULL
        );

        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            ts TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT NOT NULL,
            result TEXT NOT NULL,
            detail TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        );
        CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
            BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
        CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
            BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
        """
    )


@MIGRATIONS()
def m101_admin_tables(db: Database) -> None:
    """Administration: 差评 follow-up cases, the provincial upload queue, device pairing codes."""
    db.executescript(
        """
        CREATE TABLE followup_cases (
            id INTEGER PRIMARY KEY,
            evaluation_id INTEGER NOT NULL UNIQUE REFERENCES evaluations (id),
            status TEXT NOT NULL,
            opened_at TEXT NOT NULL,
            due_day TEXT NOT NULL,
            assignee TEXT NOT NULL DEFAULT '',
            assigned_at TEXT,
            followup_at TEXT,
            followup_by TEXT,
            followup_note TEXT,
            followup_result TEXT,
            rectification TEXT,
            rectified_at TEXT,
            rectified_by TEXT,
            closed_at TEXT,
            closed_by TEXT,
            conclusion TEXT
        );
        CREATE INDEX followup_cases_status ON followup_cases (status, due_day);

        CREATE TABLE upload_queue (
            record_id TEXT PRIMARY KEY,
            evaluation_id INTEGER NOT NULL REFERENCES evaluations (id),
            payload TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_ts REAL NOT NULL DEFAULT 0,
            last_error TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            sent_at TEXT
        );
        CREATE INDEX upload_queue_due ON upload_queue (status, next_attempt_ts);

        CREATE TABLE pairing_codes (
            code_hash TEXT PRIMARY KEY,
            role TEXT NOT NULL,
            window INTEGER,
            name TEXT NOT NULL,
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL,
            expires_ts REAL NOT NULL,
            used_at TEXT
        );
        """
    )


@MIGRATIONS()
def m301_appoint_appointments(db: Database) -> None:
    """Appointments (预约): only the keyed ID hash and masked forms; the phone until used."""
    db.executescript(
        """
        CREATE TABLE appointments (
            id INTEGER PRIMARY KEY,
            service TEXT NOT NULL,
            slot_day TEXT NOT NULL,
            slot_start_ts REAL NOT NULL,
            slot_end_ts REAL NOT NULL,
            status TEXT NOT NULL,
            id_hash TEXT NOT NULL,
            id_masked TEXT NOT NULL,
            name_masked TEXT,
            phone TEXT,
            phone_masked TEXT,
            check_code TEXT NOT NULL,
            source TEXT NOT NULL,
            external_ref TEXT,
            created_at TEXT NOT NULL,
            created_ts REAL NOT NULL,
            cancelled_ts REAL,
            checked_in_ts REAL,
            ticket_id INTEGER REFERENCES tickets (id),
            late INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX appointments_slot ON appointments (service, slot_start_ts, status);
        CREATE INDEX appointments_person ON appointments (id_hash, status, slot_start_ts);
        CREATE UNIQUE INDEX appointments_ref ON appointments (external_ref)
            WHERE external_ref IS NOT NULL;

        CREATE TABLE ticket_contacts (
            ticket_id INTEGER PRIMARY KEY REFERENCES tickets (id),
            phone TEXT,
            phone_masked TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            notified_at TEXT
        );
        """
    )


@MIGRATIONS()
def m401_tickets_by_service_time(db: Database) -> None:
    """The predictor counts each service's recent arrivals: index them, not scan every ticket."""
    db.execute("CREATE INDEX tickets_service_issued ON tickets (service, issued_ts)")


@MIGRATIONS()
def m501_queue_counts(db: Database) -> None:
    """Waiting tickets per (service, class), kept by triggers on every change of a ticket.

    People ahead of a ticket just issued is then this count minus the few tickets issued
    after it (an index range), not a count of the whole queue: with thousands waiting, that
    count was the largest cost of issuing a ticket. Triggers, so no code path can forget it,
    and it commits or rolls back with the change that moved it.
    """
    db.executescript(
        """
        CREATE TABLE queue_counts (
            service TEXT NOT NULL,
            priority TEXT NOT NULL,
            waiting INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (service, priority)
        ) WITHOUT ROWID;
        INSERT INTO queue_counts (service, priority, waiting)
            SELECT service, priority, COUNT(*) FROM tickets WHERE status = 'waiting'
            GROUP BY service, priority;
        CREATE TRIGGER queue_counts_insert AFTER INSERT ON tickets
        WHEN NEW.status = 'waiting' BEGIN
            INSERT INTO queue_counts (service, priority, waiting)
                VALUES (NEW.service, NEW.priority, 1)
                ON CONFLICT (service, priority) DO UPDATE SET waiting = waiting + 1;
        END;
        CREATE TRIGGER queue_counts_delete AFTER DELETE ON tickets
        WHEN OLD.status = 'waiting' BEGIN
            UPDATE queue_counts SET waiting = waiting - 1
                WHERE service = OLD.service AND priority = OLD.priority;
        END;
        CREATE TRIGGER queue_counts_leave AFTER UPDATE OF status, service, priority ON tickets
        WHEN OLD.status = 'waiting' BEGIN
            UPDATE queue_counts SET waiting = waiting - 1
                WHERE service = OLD.service AND priority = OLD.priority;
        END;
        CREATE TRIGGER queue_counts_join AFTER UPDATE OF status, service, priority ON tickets
        WHEN NEW.status = 'waiting' BEGIN
            INSERT INTO queue_counts (service, priority, waiting)
                VALUES (NEW.service, NEW.priority, 1)
                ON CONFLICT (service, priority) DO UPDATE SET waiting = waiting + 1;
        END;
        """
    )


@MIGRATIONS()
def m502_person_day_and_completions(db: Database) -> None:
    """Indexes for two per-ticket questions that read a whole day's tickets without them:

    - how many tickets this ID (hash) has had today (the anti-scalping limit, on every
      real-name ticket): the planner took (business_day, status) and counted the whole day;
    - a service's latest completions (the predictor's service times and completion rate),
      newest first, without sorting every ticket the service ever finished.
    """
    db.executescript(
        """
        CREATE INDEX tickets_person_day ON tickets (id_hash, business_day)
            WHERE id_hash IS NOT NULL;
        CREATE INDEX tickets_completed ON tickets
            (service, status, COALESCE(finished_ts, skipped_ts));
        """
    )


@MIGRATIONS()
def m601_offline_lease_epoch_and_bounds(db: Database) -> None:
    """Leases that survive a restore and stay within bounds:

    - `leases.epoch`: the database generation a lease was granted in (`hall restore` starts a
      new one, so leases from before are known stale); `recovered`: a lease the database did
      not know, re-entered from a kiosk's signed copy after a restore; `released`: a lease
      its kiosk no longer holds (its outbox was replaced), no longer counted against its bound;
      `returned`: numbers of a retired lease its kiosk never used, given back to the quota;
    - `counters.reserved` / `reserved_used`: numbers handed out in leases today and how many
      of them came back as tickets, so leases count against the daily quota exactly once;
    - an index to count a lease's synced tickets.
    """
    db.executescript(
        """
        ALTER TABLE leases ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE leases ADD COLUMN recovered INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE leases ADD COLUMN released INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE leases ADD COLUMN returned INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE counters ADD COLUMN reserved INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE counters ADD COLUMN reserved_used INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX tickets_lease ON tickets (lease_id) WHERE lease_id IS NOT NULL;
        CREATE INDEX leases_day ON leases (business_day, service, device);
        """
    )


@MIGRATIONS()
def m602_ticket_public_code(db: Database) -> None:
    """`tickets.code`: the unguessable code in a ticket's public QR link (`/t/CODE`), so the
    link never carries the sequential id; existing tickets get a random one."""
    db.executescript(
        """
        ALTER TABLE tickets ADD COLUMN code TEXT;
        UPDATE tickets SET code = lower(hex(randomblob(10))) WHERE code IS NULL;
        CREATE UNIQUE INDEX tickets_code ON tickets (code);
        """
    )


@MIGRATIONS()
def m603_ticket_cases(db: Database) -> None:
    """`ticket_cases`: the business system's 办件编号 (unique in the hall) and the 事项实施编码
    given at 办结 (`POST /tickets/{id}/finish`), kept with the ticket for 好差评 records."""
    db.executescript(
        """
        CREATE TABLE ticket_cases (
            ticket_id INTEGER NOT NULL REFERENCES tickets (id),
            case_no TEXT NOT NULL UNIQUE,
            item_code TEXT,
            recorded_at TEXT NOT NULL
        );
        CREATE INDEX ticket_cases_ticket ON ticket_cases (ticket_id);
        """
    )


@MIGRATIONS()
def m604_reason_codes(db: Database) -> None:
    """`evaluations.reasons` holds codes only: an old row's Chinese reason (the evaluator page
    and the kiosk stored labels) becomes the code of the default list's reason with that label;
    one that matches none is kept in the comment, prefixed "原因：", so nothing is lost. A 差评
    left without a reason gets "other" (the rule that it needs one still holds). Records not
    yet sent to the provincial platform carry the new codes and comment too."""
    from halldomain import ratings

    rows = db.execute("SELECT id, level, reasons, comment FROM evaluations").fetchall()
    for ev_id, level, stored, comment in rows:
        old = json.loads(stored or "[]")
        codes: list[str] = []
        kept: list[str] = []
        for text in old:
            code = ratings.code_for_label(str(text), ratings.DEFAULT_REASONS)
            if code is None:
                kept.append(str(text))
            elif code not in codes:
                codes.append(code)
        if ratings.needs_reason(level) and not codes:
            codes.append(ratings.OTHER)
        if codes == old and not kept:
            continue
        notes = [ratings.REASON_PREFIX + "、".join(kept)] if kept else []
        new_comment = "；".join([*notes, *([comment] if comment else [])])
        db.execute(
            "UPDATE evaluations SET reasons = ?, comment = ? WHERE id = ?",
            (json.dumps(codes, ensure_ascii=False), new_comment, ev_id),
        )
        queued = db.execute(
            "SELECT record_id, payload FROM upload_queue WHERE evaluation_id = ? AND status != 'sent'",
            (ev_id,),
        ).fetchall()
        for record_id, payload in queued:
            record = json.loads(payload)
            record.update(reasons=codes, comment=new_comment)
            db.execute(
                "UPDATE upload_queue SET payload = ? WHERE record_id = ?",
                (json.dumps(record, ensure_ascii=False), record_id),
            )


@MIGRATIONS()
def m610_case_cycle(db: Database) -> None:
    """The full 差评 cycle on `followup_cases`: a 回访 deadline of its own (existing cases get
    their 整改 deadline, so an upgrade raises no alert the old rules did not), the citizen's
    phone where one was given (`contact_phone`, purged with the ticket's personal data, and
    its masked form), the handler's account (who may reveal the phone) and the state before an
    appeal; `case_appeals` (申诉复核, one per case); `evaluations.excluded_at` (an upheld appeal
    keeps the rating but leaves it out of 好评率, found by a partial index on its events); the
    12345 hand-off outbox and the nonces of the outcomes received (replay protection)."""
    have = {c.name for c in db["followup_cases"].columns}
    for col, decl in (
        ("followup_due_day", "TEXT"),
        ("contact_phone", "TEXT"),
        ("contact_masked", "TEXT"),
        ("assignee_account_id", "INTEGER"),
        ("prev_status", "TEXT"),
    ):
        if col not in have:
            db.execute(f"ALTER TABLE followup_cases ADD COLUMN {col} {decl}")
    db.execute(
        "UPDATE followup_cases SET followup_due_day = due_day WHERE followup_due_day IS NULL"
    )
    if "excluded_at" not in {c.name for c in db["evaluations"].columns}:
        db.execute("ALTER TABLE evaluations ADD COLUMN excluded_at TEXT")
    db.executescript(
        """
        CREATE TABLE IF NOT EXISTS case_appeals (
            case_id INTEGER PRIMARY KEY REFERENCES followup_cases (id),
            kind TEXT NOT NULL,
            reason TEXT NOT NULL,
            appellant TEXT NOT NULL,
            appellant_account_id INTEGER,
            filed_at TEXT NOT NULL,
            prev_status TEXT NOT NULL,
            decision TEXT,
            decision_note TEXT,
            reviewer TEXT,
            reviewer_account_id INTEGER,
            decided_at TEXT
        );
        CREATE TABLE IF NOT EXISTS hotline_outbox (
            case_id INTEGER PRIMARY KEY REFERENCES followup_cases (id),
            record_id TEXT NOT NULL UNIQUE,
            payload TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_ts REAL NOT NULL DEFAULT 0,
            last_error TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            sent_at TEXT,
            outcome_ref TEXT,
            outcome_at TEXT
        );
        CREATE INDEX IF NOT EXISTS hotline_outbox_due ON hotline_outbox (status, next_attempt_ts);
        CREATE INDEX IF NOT EXISTS events_excluded ON events (id)
            WHERE type = 'evaluation.excluded';
        CREATE TABLE IF NOT EXISTS hotline_nonces (
            nonce TEXT PRIMARY KEY,
            received_ts REAL NOT NULL
        );
        """
    )


def _add_columns(db: Database, table: str, columns: dict[str, str]) -> None:
    """ALTER TABLE … ADD COLUMN for each column the table does not have yet (idempotent)."""
    have = {row[1] for row in db.execute(f"PRAGMA table_info({table})").fetchall()}
    for name, decl in columns.items():
        if name not in have:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {decl}")


@MIGRATIONS()
def m620_ticket_staff_account(db: Database) -> None:
    """`tickets.staff_account` and `staff_no`: the login account (username) and 工号 of the staff
    member who called the ticket, recorded at the call, so a 好差评 record names them without
    matching a display name to an account later. Older tickets keep the name they had."""
    _add_columns(db, "tickets", {"staff_account": "TEXT", "staff_no": "TEXT"})


@MIGRATIONS()
def m621_evaluation_record(db: Database) -> None:
    """What a 好差评 record carries beyond the rating (GB/T 39734-2020, 国办发〔2019〕51号):

    - `staff_account`, `staff_no`: the account and 工号 that served the ticket (from the call);
      an older row takes the 工号 its upload record already had;
    - `department`: the service's department, else the window's;
    - `cases`: the 办件编号 and 事项实施编码 given at 办结, a JSON list;
    - `device`: the kiosk a `kiosk` rating rates (the terminal itself);
    - `contact_phone` / `contact_phone_masked`: a phone number the citizen left on the QR page
      for a 回访, purged with the ticket's personal data;
    - a unique index so the window evaluator and the QR page share one rating per ticket
      (一次一评), where the stored rows allow it.
    """
    _add_columns(
        db,
        "evaluations",
        {
            "staff_account": "TEXT",
            "staff_no": "TEXT",
            "department": "TEXT",
            "cases": "TEXT NOT NULL DEFAULT '[]'",
            "device": "TEXT",
            "contact_phone": "TEXT",
            "contact_phone_masked": "TEXT",
        },
    )
    db.execute(
        "UPDATE evaluations SET staff_no = (SELECT json_extract(q.payload, '$.staff_no')"
        " FROM upload_queue q WHERE q.evaluation_id = evaluations.id LIMIT 1)"
        " WHERE staff_no IS NULL"
    )
    doubled = db.execute(
        "SELECT 1 FROM evaluations WHERE channel IN ('window', 'qr')"
        " GROUP BY ticket_id HAVING COUNT(*) > 1 LIMIT 1"
    ).fetchone()
    if doubled is None:
        db.execute(
            "CREATE UNIQUE INDEX IF NOT EXISTS evaluations_one_per_visit ON evaluations (ticket_id)"
            " WHERE channel IN ('window', 'qr')"
        )


@MIGRATIONS()
def m630_upload_outcome(db: Database) -> None:
    """`upload_queue.outcome`: how the platform took a delivered record, `accepted` or
    `duplicate` (it already had that 办件编号, e.g. after a lost acknowledgement); records
    sent before are `accepted`."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(upload_queue)").fetchall()}
    if "outcome" not in columns:
        db.execute("ALTER TABLE upload_queue ADD COLUMN outcome TEXT NOT NULL DEFAULT ''")
        db.execute("UPDATE upload_queue SET outcome = 'accepted' WHERE status = 'sent'")


@MIGRATIONS()
def m640_broadcasts(db: Database) -> None:
    """`broadcasts`: announcements (语音广播) an administrator sends now, once at a time
    (`at_ts`), or daily at `at_hm` (HH:MM, on working days only unless `any_day`); when each
    was last said (`last_sent_day` keeps a daily one to once a day)."""
    db.executescript(
        """
        CREATE TABLE IF NOT EXISTS broadcasts (
            id INTEGER PRIMARY KEY,
            text TEXT NOT NULL,
            schedule TEXT NOT NULL,
            at_ts REAL,
            at_hm TEXT,
            any_day INTEGER NOT NULL DEFAULT 0,
            repeats INTEGER NOT NULL DEFAULT 2,
            enabled INTEGER NOT NULL DEFAULT 1,
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL,
            last_sent_at TEXT,
            last_sent_day TEXT,
            sent_count INTEGER NOT NULL DEFAULT 0
        );
        """
    )


@MIGRATIONS()
def m641_posters(db: Database) -> None:
    """Image notices (信息发布): `media` holds uploaded images by their SHA-256 (content
    addressed: the same poster uploaded twice is stored once); `posters` is the display's
    rotation (order, seconds shown, valid from/to)."""
    db.executescript(
        """
        CREATE TABLE IF NOT EXISTS media (
            sha256 TEXT PRIMARY KEY,
            mime TEXT NOT NULL,
            width INTEGER NOT NULL,
            height INTEGER NOT NULL,
            size INTEGER NOT NULL,
            data BLOB NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS posters (
            id INTEGER PRIMARY KEY,
            title TEXT NOT NULL,
            sha256 TEXT NOT NULL REFERENCES media (sha256),
            position INTEGER NOT NULL DEFAULT 0,
            seconds INTEGER NOT NULL DEFAULT 15,
            valid_from TEXT,
            valid_to TEXT,
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        """
    )


@MIGRATIONS()
def m650_city_requests(db: Database) -> None:
    """`city_requests`: phone actions that reached the hall through the city broker, each
    with the answer it got, so a request delivered twice is applied once and answered the
    same (queue_server.runtime.city)."""
    db.executescript(
        """
        CREATE TABLE IF NOT EXISTS city_requests (
            request_id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            answer TEXT NOT NULL,
            received_at TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS city_requests_received ON city_requests (received_at);
        """
    )
