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


class StorageUnavailable(HallError):
    """The database cannot be written (disk full, read-only, I/O error): nothing was changed.
    Kiosks treat it as the server being away and issue from their lease."""

    status = 503
    code = "storage_unavailable"

    def __init__(self, message: str = "", code: str | None = None) -> None:
        super().__init__(message or STORAGE_MESSAGE, code)


STORAGE_MESSAGE = "服务器暂时无法保存数据（存储空间已满或无法写入），请稍后再试或到服务台咨询"
