"""Keypad bridges: caller keypads (呼叫器) and evaluator keypads (评价器) talking to the server.

Each bridge runs on its own threads: the keypad driver reads the port, a worker turns presses
into HTTP calls with the window's credential and writes the answer back to the keypad's LED, a
heartbeat reports device health (at most one every 10 s; the server rate-limits them), and the
evaluator bridge follows the event stream for the window's finished tickets. A pressed key
always gets a visible answer: the number, a short Chinese word, "E" + the HTTP status, or
"断网" when the server cannot be reached.
"""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from drivers.base import Health, Worker
from drivers.serverlink import sse_events, stream_lines
from halldomain import ratings

if TYPE_CHECKING:
    from drivers.keypadbus import KeypadBus

log = logging.getLogger(__name__)

MIN_HEARTBEAT_S = 10.0
OFFLINE = "断网"
NOTHING_WAITING = "无人等候"
PAUSED = "已暂停"
RESUMED = "已恢复"
NO_CURRENT = "无当前号"
FINISH_FIRST = "请先办结"
ASK_RATING = "请评价"
NOTHING_TO_RATE = "无待评价"
THANKS = "谢谢评价"
ALREADY_RATED = "已评价"
CHOOSE_REASON = "请选原因"
TELL_STAFF = "请告知工作人员"
RATE_FIRST = "请先评分"
# The reason codes of the window channel, in key order 1..9, as the evaluator tablet shows them:
# the hall's list from GET /hall (`ratings`), these defaults (halldomain/ratings.py) until then.
DEFAULT_REASONS = tuple(r.code for r in ratings.DEFAULT_REASONS if "window" in r.channels)
OTHER_REASON = ratings.OTHER


class Offline(Exception):
    """The server could not be reached (connection refused, timeout, reset)."""


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any

    def error_text(self) -> str:
        return f"E{self.status}"

    @property
    def code(self) -> str:
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            return str(self.body["error"].get("code", ""))
        return ""


class Server:
    """The queue server's HTTP API with one bearer token (a requests session per bridge)."""

    def __init__(self, url: str, token: str, timeout: float = 5.0) -> None:
        import requests

        self.url = url.rstrip("/")
        self.token = token
        self._timeout = (2.0, timeout)  # connect, read
        self._session = requests.Session()
        self._session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, body: Any = None) -> Reply:
        import requests

        try:
            r = self._session.request(
                method, f"{self.url}/api/v1{path}", json=body, timeout=self._timeout
            )
        except requests.RequestException as e:
            raise Offline(e.__class__.__name__) from None
        try:
            data = r.json() if r.content else None
        except ValueError:
            data = None
        return Reply(r.status_code, data)

    def close(self) -> None:
        self._session.close()


class Heartbeat(Worker):
    """Reports `health()` to POST /devices/heartbeat every `every` seconds (at least 10)."""

    thread_name = "keypad-heartbeat"

    def __init__(
        self,
        server_url: str,
        token: str,
        health: Callable[[], tuple[dict[str, Any], dict[str, Any]]],
        every: float,
    ) -> None:
        super().__init__()
        self.server = Server(server_url, token)
        self.health = health
        self.every = max(MIN_HEARTBEAT_S, every)
        self.sent = 0
        self.last_status: int | None = None

    def beat(self) -> None:
        health, state = self.health()
        try:
            reply = self.server.call(
                "POST", "/devices/heartbeat", {"health": health, "state": state}
            )
            self.last_status = reply.status
            if reply.status == 200:
                self.sent += 1
        except Offline:
            self.last_status = None

    def _run(self) -> None:
        # the first beat waits (briefly) for the port to open, so it does not say "unknown"
        deadline = time.monotonic() + 3.0
        while self._unknown() and time.monotonic() < deadline and not self._stop.wait(0.05):
            pass
        while not self._stop.is_set():
            self.beat()
            self._stop.wait(self.every)

    def _unknown(self) -> bool:
        health, _ = self.health()
        return any(h.get("state") == "unknown" for h in health.values())

    def stop(self) -> None:
        super().stop()
        self.server.close()


def resolve_window(server_url: str, token: str, window: int | None) -> int:
    """The window the token is bound to when none is given (GET /me)."""
    if window is not None:
        return window
    server = Server(server_url, token)
    try:
        reply = server.call("GET", "/me")
    finally:
        server.close()
    if reply.status != 200 or not isinstance(reply.body, dict) or reply.body.get("window") is None:
        raise ValueError("the token is not bound to a window: pass --window N")
    return int(reply.body["window"])


class CallerBridge(Worker):
    """Caller keypad presses → the window's actions; the number (or an answer) → its LED.

    呼叫 call-next · 重呼 recall · 过号 skip · 办结 finish the current ticket · 暂停 pauses an
    open window and resumes a paused one · 评价 files nothing (ratings come only from the
    citizen's device, which asks by itself on 办结): it shows "请先办结" while a ticket is
    being served, else "请评价" as a cue for the citizen.
    """

    thread_name = "caller-bridge"

    def __init__(
        self,
        keypad_url: str,
        server_url: str,
        token: str,
        window: int,
        addr: int | None = None,
        heartbeat_every: float = 30.0,
        bus: KeypadBus | None = None,
    ) -> None:
        from drivers.caller import open_caller

        super().__init__()
        self.window = window
        self.addr = window if addr is None else addr
        self.server = Server(server_url, token)
        self.presses: queue.Queue[Any] = queue.Queue()
        # on a shared bus the bus's reader routes this address's frames here
        self.keypad: Any = (
            open_caller(keypad_url, on_press=self._on_press)
            if bus is None
            else bus.attach(self.addr, self._on_bus_frame)
        )
        self.shown = ""
        self._unshown = False
        self.answered = 0
        self.heartbeat = Heartbeat(server_url, token, self._health, heartbeat_every)

    # -- threads ------------------------------------------------------------------------------
    def start(self) -> CallerBridge:
        self.keypad.start()
        super().start()
        self.heartbeat.start()
        return self

    def stop(self) -> None:
        self.heartbeat.stop()
        super().stop()
        self.keypad.stop()
        self.server.close()

    def _on_press(self, press: Any) -> None:
        if press.addr == self.addr:
            self.presses.put(press)

    def _on_bus_frame(self, event: Any) -> None:
        from drivers.keypadbus import as_press

        press = as_press(event)
        if press is not None:
            self._on_press(press)

    def _run(self) -> None:
        self._show(self.current_text())
        while not self._stop.is_set():
            try:
                press = self.presses.get(timeout=0.1)
            except queue.Empty:
                if self._unshown:  # the port was not open yet (or reopened): show it now
                    self._show(self.shown)
                continue
            self._show(self.answer(press.key))
            self.answered += 1

    def _show(self, text: str) -> None:
        self.shown = text
        self._unshown = not self.keypad.show(self.addr, text)

    def _health(self) -> tuple[dict[str, Any], dict[str, Any]]:
        health = self.keypad.health()
        return (
            {"caller_keypad": health.as_dict()},
            {"window": self.window, "display": self.shown, "presses": self.answered},
        )

    def health(self) -> Health:
        return self.keypad.health()

    # -- presses -> HTTP ------------------------------------------------------------------------
    def answer(self, key: str) -> str:
        """What the LED shows after `key` (one HTTP round trip or two; never raises)."""
        try:
            return getattr(self, f"_key_{key}")()
        except Offline:
            return OFFLINE
        except Exception:  # a bug must still light the LED, not leave staff guessing
            log.exception("caller bridge failed on %s", key)
            return "Err"

    def current_text(self) -> str:
        try:
            current = self._current()
        except Offline:
            return OFFLINE
        return str(current["number"]) if current else "----"

    def _window(self) -> dict[str, Any]:
        reply = self.server.call("GET", f"/windows/{self.window}")
        if reply.status != 200 or not isinstance(reply.body, dict):
            raise _Shown(reply.error_text())
        return reply.body

    def _current(self) -> dict[str, Any] | None:
        try:
            current = self._window().get("current")
        except _Shown:
            return None
        return current if isinstance(current, dict) else None

    def _key_call(self) -> str:
        reply = self.server.call("POST", f"/windows/{self.window}/call-next")
        if reply.status == 200:
            return str(reply.body["number"])
        if reply.status == 204:
            return NOTHING_WAITING
        if reply.status == 409 and self._status() == "paused":
            return PAUSED
        return reply.error_text()

    def _on_current(self, action: str, suffix: str) -> str:
        try:
            current = self._window().get("current")
        except _Shown as e:
            return str(e)
        if not current:
            return NO_CURRENT
        reply = self.server.call("POST", f"/tickets/{current['id']}/{action}")
        if reply.status == 200:
            return f"{reply.body['number']}{suffix}"
        return reply.error_text()

    def _key_recall(self) -> str:
        return self._on_current("recall", "")

    def _key_skip(self) -> str:
        return self._on_current("skip", "过号")

    def _key_finish(self) -> str:
        return self._on_current("finish", "办结")

    def _status(self) -> str:
        try:
            return str(self._window().get("status", ""))
        except _Shown:
            return ""

    def _key_pause(self) -> str:
        try:
            status = self._window().get("status")
        except _Shown as e:
            return str(e)
        action, text = ("resume", RESUMED) if status == "paused" else ("pause", PAUSED)
        reply = self.server.call("POST", f"/windows/{self.window}/{action}")
        return text if reply.status == 200 else reply.error_text()

    def _key_evaluate(self) -> str:
        return FINISH_FIRST if self._current() else ASK_RATING


class _Shown(Exception):
    """An answer to show as it is (an error code from a lookup)."""


class EvaluatorBridge(Worker):
    """Evaluator keypad scores → POST /evaluations for the window's last explicitly finished ticket.

    The ticket to rate is the last `ticket.finished` of the window that is not `implicit` (a
    call-next finishing the previous ticket does not ask for a rating); a `ticket.called` at
    the window clears it (a new citizen is at the desk). 差评 (level 1–2) needs a reason: with
    `reason_keys` the keypad's reason keys (FUNC 0x14, data 1..9 = the window channel's reasons
    of the hall's list, GET /hall, in order) pick it; without them the LED asks the citizen to
    tell the staff why, and the rating is filed with `other_reason` (code "other", 其他) so it
    is not lost; with `other_reason` empty it is not filed at all. Reasons are codes.
    """

    thread_name = "evaluator-bridge"

    def __init__(
        self,
        keypad_url: str,
        server_url: str,
        token: str,
        window: int,
        addr: int | None = None,
        reason_keys: bool = False,
        reasons: tuple[str, ...] | None = None,
        other_reason: str = OTHER_REASON,
        heartbeat_every: float = 30.0,
        bus: KeypadBus | None = None,
    ) -> None:
        from drivers.evaluator import open_keypad

        super().__init__()
        self.window = window
        self.addr = window if addr is None else addr
        self.server_url = server_url
        self.token = token
        self.server = Server(server_url, token)
        self.reason_keys = reason_keys
        self.follow_hall = reasons is None  # take the reason list from GET /hall
        self._next_load = 0.0
        self.reasons = DEFAULT_REASONS if reasons is None else reasons
        self.other_reason = other_reason
        self.inputs: queue.Queue[Any] = queue.Queue()
        self.keypad: Any = (
            open_keypad(keypad_url, on_score=self.inputs.put, on_frame=self.inputs.put)
            if bus is None
            else bus.attach(self.addr, self.inputs.put)
        )
        self.pending: dict[str, Any] | None = None
        self.awaiting_reason: int | None = None
        self.shown = ""
        self._unshown = False
        self.rated = 0
        self.stream_ok = False
        self.last_event_id: int | None = None
        self._events = _EventFollower(self)
        self.heartbeat = Heartbeat(server_url, token, self._health, heartbeat_every)

    def start(self) -> EvaluatorBridge:
        self.keypad.start()
        self._events.start()
        super().start()
        self.heartbeat.start()
        return self

    def stop(self) -> None:
        self.heartbeat.stop()
        self._events.stop()
        super().stop()
        self.keypad.stop()
        self.server.close()

    def _health(self) -> tuple[dict[str, Any], dict[str, Any]]:
        health = self.keypad.health()
        events = (
            Health("ok", "ok", "事件流已连接")
            if self.stream_ok
            else Health("warning", "no_event_stream", "评价器未收到办结通知，请检查网络")
        )
        return (
            {"evaluator_keypad": health.as_dict(), "event_stream": events.as_dict()},
            {"window": self.window, "display": self.shown, "ratings": self.rated},
        )

    # -- events ----------------------------------------------------------------------------------
    def on_event(self, kind: str, data: Any) -> None:
        if not isinstance(data, dict) or data.get("window") != self.window:
            return
        if kind == "ticket.finished" and not data.get("implicit"):
            self.inputs.put(("finished", data))
        elif kind == "ticket.called":
            self.inputs.put(("called", data))

    def load_reasons(self) -> bool:
        """The window channel's reason codes from the hall's vocabulary (GET /hall)."""
        try:
            reply = self.server.call("GET", "/hall")
        except Offline:
            return False
        vocab = reply.body.get("ratings") if isinstance(reply.body, dict) else None
        if reply.status != 200 or not isinstance(vocab, dict):
            return False
        codes = tuple(r["code"] for r in vocab.get("reasons", ()) if "window" in r["channels"])
        if codes:
            self.reasons = codes
        self.follow_hall = False
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            if self.follow_hall and time.monotonic() >= self._next_load:
                self._next_load = time.monotonic() + 30.0  # offline: try again later
                self.load_reasons()
            try:
                item = self.inputs.get(timeout=0.1)
            except queue.Empty:
                if self._unshown:
                    self._show(self.shown)
                continue
            text = self.handle(item)
            if text is not None:
                self._show(text)

    def _show(self, text: str) -> None:
        self.shown = text
        self._unshown = not self.keypad.show(self.addr, text)

    def handle(self, item: Any) -> str | None:
        """The LED's answer to a keypad frame or a window event (None: leave the LED as is)."""
        from drivers.evaluator import FUNC_REASON, Score

        if isinstance(item, tuple):
            kind, ticket = item
            self.awaiting_reason = None
            if kind == "finished":
                self.pending = ticket
                return f"{ASK_RATING}{ticket.get('number', '')}"
            self.pending = None
            return ""
        if isinstance(item, Score):
            if item.addr != self.addr:
                return None
            return self._score(item.level)
        if getattr(item, "addr", None) == self.addr and getattr(item, "func", None) == FUNC_REASON:
            index = item.data[0] if item.data else 0
            if self.awaiting_reason is None:
                return RATE_FIRST
            if not 1 <= index <= len(self.reasons):
                return CHOOSE_REASON
            return self._file(self.awaiting_reason, [self.reasons[index - 1]])
        return None

    def _score(self, level: int) -> str:
        if self.pending is None:
            return NOTHING_TO_RATE
        if level >= 3:
            return self._file(level, [])
        if self.reason_keys:
            self.awaiting_reason = level
            return CHOOSE_REASON
        if not self.other_reason:
            return TELL_STAFF
        answer = self._file(level, [self.other_reason], "评价器无原因键，请向窗口了解原因")
        return TELL_STAFF if answer == THANKS else answer

    def _file(self, level: int, reasons: list[str], comment: str = "") -> str:
        assert self.pending is not None
        body = {
            "ticket_id": self.pending["id"],
            "level": level,
            "reasons": reasons,
            "comment": comment,
            "channel": "window",
        }
        try:
            reply = self.server.call("POST", "/evaluations", body)
        except Offline:
            return OFFLINE  # the ticket stays pending: the citizen can press again
        self.awaiting_reason = None
        if reply.status == 201:
            self.pending = None
            self.rated += 1
            return THANKS
        if reply.status == 409 and reply.code == "already_rated":
            self.pending = None
            return ALREADY_RATED
        return reply.error_text()


class _EventFollower(Worker):
    """Follows GET /events for the bridge, resuming with Last-Event-ID after a break."""

    thread_name = "evaluator-events"

    def __init__(self, bridge: EvaluatorBridge) -> None:
        super().__init__()
        self.bridge = bridge
        self.retry_after = 1.0

    def _run(self) -> None:
        import requests

        b = self.bridge
        while not self._stop.is_set():
            headers = {"Authorization": f"Bearer {b.token}"}
            if b.last_event_id is not None:
                headers["Last-Event-ID"] = str(b.last_event_id)
            try:
                with requests.get(
                    f"{b.server_url.rstrip('/')}/api/v1/events",
                    headers=headers,
                    stream=True,
                    timeout=(5.0, 30.0),
                ) as r:
                    if r.status_code != 200:
                        log.warning("event stream refused: %s", r.status_code)
                        b.stream_ok = False
                        self._stop.wait(max(self.retry_after, 5.0))
                        continue
                    b.stream_ok = True
                    for event_id, kind, data in _events(stream_lines(r)):
                        if event_id is not None:
                            b.last_event_id = event_id
                        b.on_event(kind, data)
                        if self._stop.is_set():
                            return
            except requests.RequestException:
                pass
            b.stream_ok = False
            self._stop.wait(self.retry_after)

    stop_timeout = 0.5


def _events(lines: Iterator[str]) -> Iterator[tuple[int | None, str, Any]]:
    """(id, event type, JSON data) for each event of the stream (None where unreadable)."""
    import orjson

    for ev_id, kind, data in sse_events(lines):
        try:
            payload = orjson.loads(data)
        except orjson.JSONDecodeError:
            payload = None
        yield (int(ev_id) if ev_id.isdecimal() else None), kind, payload


def run_until(bridge: Worker, duration: float) -> None:
    """Keep a started bridge running for `duration` seconds (0: until Ctrl-C)."""
    deadline = time.monotonic() + duration if duration else None
    try:
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass


# -- `hall device caller …` and `hall device evaluator run` -------------------------------------
CALLER_URLS = "serial:///dev/ttyUSB2?baud=9600, tcp://HOST:PORT (serial server), fake://"


def register_caller(kinds: Any) -> None:
    """`hall device caller run|emulate` under `hall device`."""
    caller = kinds.add_parser("caller", help="caller keypad (呼叫器)").add_subparsers(
        metavar="ACTION"
    )
    run = caller.add_parser("run", help="bridge a caller keypad to its window on the server")
    run.add_argument("--url", required=True, help=CALLER_URLS)
    _bridge_args(run, "staff token of the window (hall token --role staff --window N)")
    run.set_defaults(func=cmd_caller_run)
    emu = caller.add_parser(
        "emulate", help="a caller keypad on a pty: type a key name to press it, see its LED"
    )
    emu.add_argument("--addr", type=int, default=1, help="bus address of the keypad (default 1)")
    emu.set_defaults(func=cmd_caller_emulate)


def register_evaluator_run(evaluator: Any) -> None:
    """`hall device evaluator run` under `hall device evaluator`."""
    run = evaluator.add_parser("run", help="bridge an evaluator keypad to its window's ratings")
    run.add_argument("--url", required=True, help="serial:///dev/ttyUSB1?baud=9600, fake://")
    _bridge_args(run, "evaluator token of the window (hall token --role evaluator --window N)")
    run.add_argument(
        "--reason-keys",
        action="store_true",
        help="the keypad has 差评 reason keys 1..9 (the hall's window reasons, in order)",
    )
    run.add_argument(
        "--other-reason",
        default=OTHER_REASON,
        help=f"reason filed for a 差评 from a keypad without reason keys (default {OTHER_REASON};"
        " empty: do not file it)",
    )
    run.set_defaults(func=cmd_evaluator_run)


def _bridge_args(p: Any, token_help: str) -> None:
    p.add_argument("--server", required=True, help="queue server URL, e.g. http://10.0.0.2:8000")
    p.add_argument("--token", required=True, help=token_help)
    p.add_argument("--window", type=int, help="window number (default: the token's window)")
    p.add_argument("--addr", type=int, help="bus address of the keypad (default: the window)")
    p.add_argument(
        "--heartbeat", type=float, default=30.0, help="seconds between heartbeats (at least 10)"
    )
    p.add_argument("--duration", type=float, default=0, help="stop after this many seconds")


def _start_bridge(args: Any, make: Callable[[int], Worker]) -> int:
    import sys

    from drivers.urls import DeviceUrlError

    try:
        window = resolve_window(args.server, args.token, args.window)
        bridge = make(window)
    except Offline as e:
        print(f"server not reachable: {e}", file=sys.stderr)
        return 1
    except (DeviceUrlError, ValueError) as e:
        print(str(e).replace("\n", " "), file=sys.stderr)
        return 1
    bridge.start()
    print(f"bridging the keypad at {args.url} to window {window} on {args.server}", flush=True)
    try:
        run_until(bridge, args.duration)
    finally:
        bridge.stop()
    return 0


def cmd_caller_run(args: Any) -> int:
    return _start_bridge(
        args,
        lambda window: CallerBridge(
            args.url, args.server, args.token, window, args.addr, args.heartbeat
        ),
    )


def cmd_evaluator_run(args: Any) -> int:
    return _start_bridge(
        args,
        lambda window: EvaluatorBridge(
            args.url,
            args.server,
            args.token,
            window,
            args.addr,
            reason_keys=args.reason_keys,
            other_reason=args.other_reason,
            heartbeat_every=args.heartbeat,
        ),
    )


def cmd_caller_emulate(args: Any) -> int:
    import sys

    from drivers.caller import KEY_LABELS, KEYS, CallerEmulator

    names = {**{k: k for k in KEYS}, **{v: k for k, v in KEY_LABELS.items()}}
    emulator = CallerEmulator(
        on_display=lambda d: print(f"LED[{d.addr}]: {d.text}", flush=True)
    ).start()
    print(emulator.url, flush=True)
    print(f"keys: {', '.join(f'{k} ({v})' for k, v in KEY_LABELS.items())}", file=sys.stderr)
    try:
        for line in sys.stdin:
            key = names.get(line.strip())
            if key:
                emulator.press(key, args.addr)
            elif line.strip():
                print(f"unknown key {line.strip()!r}", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
    return 0
