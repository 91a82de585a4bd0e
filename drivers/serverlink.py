"""What a device bridge needs of the queue server, pure or on `requests` (a runtime
dependency; the kiosk syncs with it too): reading the event stream as it arrives, and a
device's Health in the heartbeat's shape. Used by the LED strip bridge and the keypad bridges."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from drivers.base import Health


def sse_events(lines: Iterable[str]) -> Iterator[tuple[str, str, str]]:
    """(id, event, data) from text/event-stream lines (comments and retry: skipped)."""
    ev_id = kind = ""
    data: list[str] = []
    for line in lines:
        if line == "":
            if data:
                yield ev_id, kind or "message", "\n".join(data)
            ev_id, kind, data = "", "", []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "id":
            ev_id = value
        elif name == "event":
            kind = value
        elif name == "data":
            data.append(value)


def stream_lines(resp: Any) -> Iterator[str]:
    """Lines of a streamed requests response as they arrive (iter_lines waits for 512 bytes)."""
    pending = b""
    for chunk in resp.iter_content(chunk_size=None):
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            yield line.rstrip(b"\r").decode("utf-8", errors="replace")


def health_part(h: Health) -> dict[str, str]:
    """A Health in the heartbeat's shape (the admin page reads status/detail)."""
    status = {"ok": "ok", "warning": "warn", "error": "error"}.get(h.state, "warn")
    return {**h.as_dict(), "status": status, "detail": h.message}
