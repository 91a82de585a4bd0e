"""The server as the kiosk sees it: a small interface, an HTTP client, and its two failure kinds.

`Unreachable` means the request may not have reached the server (network cut, timeout, 5xx):
the kiosk may fall back to leased numbers. `Refused` is a 4xx answer: the server decided,
and the citizen reads its Chinese message.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol


class ApiError(Exception):
    """Base of the kiosk's server errors."""


class Unreachable(ApiError):
    """No usable answer from the server (connection, timeout, 5xx)."""


class Refused(ApiError):
    """The server answered 4xx; `message` is for the citizen, `code` for the logic."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class ServerApi(Protocol):
    def hall(self) -> dict[str, Any]: ...

    def services(self) -> list[dict[str, Any]]: ...

    def issue(self, body: dict[str, Any]) -> dict[str, Any]: ...

    def ticket(self, ticket_id: str) -> dict[str, Any]: ...

    def lookup(self, id_number: str) -> list[dict[str, Any]]: ...

    def lease(self, service: str, size: int) -> dict[str, Any]: ...

    def heartbeat(self, body: dict[str, Any]) -> None: ...

    def evaluate(self, body: dict[str, Any]) -> dict[str, Any]: ...

    def check_in(self, body: dict[str, Any]) -> dict[str, Any]: ...


class HttpApi:
    """`ServerApi` over HTTP with short timeouts; one requests.Session per thread."""

    def __init__(
        self, base_url: str, token: str, timeout: tuple[float, float] = (1.5, 4.0)
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api = self.base_url + "/api/v1"
        self.token = token
        self.timeout = timeout
        self._local = threading.local()

    def _session(self) -> Any:
        import requests

        s = getattr(self._local, "session", None)
        if s is None:
            s = requests.Session()
            s.headers["Authorization"] = f"Bearer {self.token}"
            self._local.session = s
        return s

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        r = self._request(method, path, body)
        if r.status_code == 204 or not r.content:
            return None
        return r.json()

    def _request(self, method: str, path: str, body: Any = None) -> Any:
        """The response of a 2xx or 3xx answer; raises `Unreachable` or `Refused` otherwise."""
        import requests

        try:
            r = self._session().request(method, self.api + path, json=body, timeout=self.timeout)
        except requests.RequestException as err:
            raise Unreachable(type(err).__name__) from None
        if r.status_code >= 500:
            raise Unreachable(f"HTTP {r.status_code}")
        if r.status_code >= 400:
            try:
                detail = r.json().get("error") or {}
            except (ValueError, AttributeError):
                detail = {}
            code = str(detail.get("code") or r.status_code)
            raise Refused(r.status_code, code, str(detail.get("message") or ""))
        return r

    def hall(self) -> dict[str, Any]:
        return self._call("GET", "/hall")

    def services(self) -> list[dict[str, Any]]:
        return self._call("GET", "/services")

    def issue(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", "/tickets", body)

    def ticket(self, ticket_id: str) -> dict[str, Any]:
        return self._call("GET", f"/tickets/{ticket_id}")

    def lookup(self, id_number: str) -> list[dict[str, Any]]:
        return self._call("POST", "/tickets/lookup", {"id_number": id_number}) or []

    def lease(self, service: str, size: int) -> dict[str, Any]:
        return self._call("POST", "/kiosk/leases", {"service": service, "size": size})

    def check_leases(
        self, leases: list[dict[str, Any]], retired: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        """{"stale": [lease ids]}: leases to issue no more from (the server was restored);
        `retired`: leases used up or retired, with the highest number issued from each."""
        body = {"leases": leases, "retired": retired or []}
        return self._call("POST", "/kiosk/leases/check", body)

    def heartbeat(self, body: dict[str, Any]) -> None:
        self._call("POST", "/devices/heartbeat", body)

    def evaluate(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", "/evaluations", body)

    def check_in(self, body: dict[str, Any]) -> dict[str, Any]:
        """签到; `created` is False when the booking was already checked in (HTTP 200)."""
        r = self._request("POST", "/appointments/check-in", body)
        return dict(r.json(), created=r.status_code == 201)
