"""A provincial 好差评 platform in miniature: a real HTTP server on a thread of the test.

It checks what a provincial interface checks: the app key and the signature (HMAC over
timestamp + nonce + body, the timestamp fresh, a nonce never seen before), the required
fields and their coded values, and it refuses a second record for the same 办件编号 with its
own error code. It fails when its script says so: a 5xx, a hang past the client's timeout
before it reads the record, or a hang after it stored the record (the acknowledgement is
lost, so the uploader will try again and meet the duplicate error).

Its store of accepted records can outlive the server (pass it to the next one): a platform
restart keeps what it received.
"""

from __future__ import annotations

import hmac
import re
import threading
import time
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson

OK, BAD_SIGNATURE, DUPLICATE, MISSING = "0", "1001", "1002", "1003"
# The wire format the tests configure the hall's uploader for (names, values, dates).
FIELD_MAP = {
    "projectNo": "case_no",
    "taskCode": "item_code",
    "deptName": "department",
    "windowNo": "window",
    "staffNo": "staff_no",
    "pf": "channel",
    "satisfaction": "level",
    "alternate": "reasons",
    "appraisald": "comment",
    "assessTime": "evaluated_at",
    "bizDay": "business_day",
}
VALUE_MAP = {
    "channel": {"window": "1", "kiosk": "2", "qr": "3"},
    "level": {str(n): f"0{n}" for n in range(1, 6)},
    "reasons": {"long_wait": "A01", "slow": "A02", "attitude": "A03", "other": "A99"},
}
CONSTANTS = {"areaCode": "440100", "version": "3.0"}
REQUIRED = ("projectNo", "pf", "satisfaction", "assessTime", "areaCode")
CHANNELS = {"1", "2", "3"}
LEVELS = {f"0{n}" for n in range(1, 6)}
REASONS = {"A01", "A02", "A03", "A99"}
STAMP = re.compile(r"^\d{14}$")


def upload_config(url: str, key: str, secret: str, sign: str = "hmac-sha256") -> dict[str, Any]:
    """The `[upload]` section that speaks this platform's dialect."""
    return {
        "endpoint": url,
        "field_map": FIELD_MAP,
        "value_map": VALUE_MAP,
        "constants": CONSTANTS,
        "list_separator": ",",
        "datetime_format": "%Y%m%d%H%M%S",
        "date_format": "%Y%m%d",
        "sign": sign,
        "app_key": key,
        "app_secret": secret,
        "duplicate_codes": [DUPLICATE],
    }


class FakePlatform:
    def __init__(
        self,
        key: str,
        secret: str,
        digest: str = "sha256",
        store: dict[str, dict[str, Any]] | None = None,
        script: Iterable[str] = (),
        hang_s: float = 1.5,
    ) -> None:
        self.key, self.secret, self.digest = key, secret.encode(), digest
        self.store = store if store is not None else {}  # accepted records by 办件编号
        self.script = list(script)  # one behaviour per request: ok, 500, 503, hang, hang_after
        self.hang_s = hang_s
        self.log: list[tuple[str, str]] = []  # (办件编号 or "", outcome) for every request
        self.nonces: set[str] = set()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                fake.handle(self, raw)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/evaluation/receive"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def outcomes(self, outcome: str) -> list[str]:
        return [case for case, what in self.log if what == outcome]

    # -- one request ------------------------------------------------------------------------

    def handle(self, h: BaseHTTPRequestHandler, raw: bytes) -> None:
        step = self.script.pop(0) if self.script else "ok"
        if step in ("500", "503"):
            self.log.append(("", step))
            return self._answer(h, int(step), {"code": "9999", "msg": "系统繁忙"})
        if step == "hang":
            self.log.append(("", "hang"))
            time.sleep(self.hang_s)  # the client has given up by now; nothing was stored
            return self._answer(h, 503, {"code": "9999", "msg": "超时"})
        problem = self._check_signature(h, raw)
        if problem:
            self.log.append(("", "bad_signature"))
            return self._answer(h, 401, {"code": BAD_SIGNATURE, "msg": problem})
        body = orjson.loads(raw)
        problem = self._check_fields(body)
        if problem:
            self.log.append((str(body.get("projectNo", "")), "invalid"))
            return self._answer(h, 400, {"code": MISSING, "msg": problem})
        case = str(body["projectNo"])
        if case in self.store:
            self.log.append((case, "duplicate"))
            return self._answer(h, 200, {"code": DUPLICATE, "msg": "该办件已评价，请勿重复提交"})
        self.store[case] = body
        self.log.append((case, "accepted"))
        if step == "hang_after":
            time.sleep(self.hang_s)  # stored, but the acknowledgement comes too late
        self._answer(h, 200, {"code": OK, "msg": "成功"})

    def _check_signature(self, h: BaseHTTPRequestHandler, raw: bytes) -> str:
        if h.headers.get("X-App-Key") != self.key:
            return "unknown app key"
        stamp, nonce = h.headers.get("X-Timestamp", ""), h.headers.get("X-Nonce", "")
        if not stamp.isdigit() or abs(int(stamp) / 1000 - time.time()) > 300:
            return "stale timestamp"
        if not nonce or nonce in self.nonces:
            return "nonce reused"
        self.nonces.add(nonce)
        want = hmac.new(self.secret, stamp.encode() + nonce.encode() + raw, self.digest)
        if not hmac.compare_digest(want.hexdigest(), h.headers.get("X-Signature", "")):
            return "bad signature"
        return ""

    @staticmethod
    def _check_fields(body: dict[str, Any]) -> str:
        missing = [f for f in REQUIRED if not body.get(f)]
        if missing:
            return f"missing {missing}"
        if body["pf"] not in CHANNELS or body["satisfaction"] not in LEVELS:
            return "bad channel or level code"
        if not STAMP.match(str(body["assessTime"])):
            return "assessTime is not yyyyMMddHHmmss"
        reasons = [r for r in str(body.get("alternate") or "").split(",") if r]
        if body["satisfaction"] in ("01", "02") and not reasons:
            return "a 差评 needs reason codes"
        if set(reasons) - REASONS:
            return f"unknown reason codes {sorted(set(reasons) - REASONS)}"
        return ""

    @staticmethod
    def _answer(h: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
        data = orjson.dumps(body)
        try:
            h.send_response(status)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)
        except OSError:
            pass  # the client gave up waiting
