"""Kiosk settings: every one has a default and a line of help (settings are data; docs/KIOSK.md lists them)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields


@dataclass(frozen=True)
class KioskSettings:
    server: str = field(
        default="", metadata={"help": "Queue server base URL, e.g. http://10.0.0.2:8080."}
    )
    token: str = field(default="", metadata={"help": "Bearer token with the kiosk role."})
    kiosk_id: str = field(
        default="kiosk-1", metadata={"help": "Name of this kiosk in keys and logs."}
    )
    outbox_path: str = field(
        default=":memory:", metadata={"help": "SQLite file holding leases and offline tickets."}
    )
    lease_size: int = field(
        default=20, metadata={"help": "Numbers asked for per lease and service."}
    )
    lease_low_water: int = field(
        default=5, metadata={"help": "Ask for a new lease when fewer numbers than this remain."}
    )
    offline_issue_minutes: int = field(
        default=120,
        metadata={"help": "How long the kiosk keeps issuing from leases with no server."},
    )
    idle_timeout_s: int = field(
        default=60, metadata={"help": "Seconds without a tap before going home."}
    )
    idle_timeout_elder_s: int = field(
        default=120, metadata={"help": "The same in elder mode (长辈模式): more time to read."}
    )
    idle_warning_s: int = field(
        default=25, metadata={"help": "Warn this many seconds before the idle reset (≥ 20)."}
    )
    page_size: int = field(default=12, metadata={"help": "Service tiles per page in normal mode."})
    page_size_elder: int = field(
        default=6, metadata={"help": "Service tiles per page in elder mode."}
    )
    sync_interval_s: float = field(default=5.0, metadata={"help": "Seconds between sync rounds."})
    heartbeat_interval_s: float = field(
        default=15.0, metadata={"help": "Seconds between heartbeats."}
    )

    def __post_init__(self) -> None:
        if self.idle_warning_s < 20:
            raise ValueError("idle_warning_s must be at least 20 s (WCAG 2.2.1 timing adjustable)")
        if self.idle_timeout_s <= self.idle_warning_s:
            raise ValueError("idle_timeout_s must be longer than idle_warning_s")


def settings_help() -> dict[str, str]:
    """Each setting's one-line help, for docs/KIOSK.md (a test keeps the doc complete)."""
    return {f.name: str(f.metadata["help"]) for f in fields(KioskSettings)}
