"""One exception tree for the server; the API layer turns each into `{"error": {code, message}}`.

Messages are Chinese, because the kiosk shows them to citizens as they are.
"""

from __future__ import annotations


class HallError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class Unauthorized(HallError):
    status = 401
    code = "unauthorized"


class Forbidden(HallError):
    status = 403
    code = "forbidden"


class NotFound(HallError):
    status = 404
    code = "not_found"


class Conflict(HallError):
    status = 409
    code = "conflict"


class Invalid(HallError):
    status = 422
    code = "invalid"


class TooMany(HallError):
    status = 429
    code = "rate_limited"
