"""Reader errors: `code` is a short English key for logs, `message` Chinese for the screen."""

from __future__ import annotations

from .protocol import sw3_describe

# SW3 codes that mean the reader (not the card) is in trouble
READER_SW3 = {0x10, 0x11, 0x21, 0x23, 0x24, 0x60, 0x66}


class IdCardError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class ReaderUnavailable(IdCardError):
    """The reader does not answer, its port is gone, or its SAM module failed."""


class CardError(IdCardError):
    """This card could not be read or its data is invalid; the citizen should try again."""


def error_for_sw3(sw3: int) -> IdCardError:
    code, message = sw3_describe(sw3)
    cls = ReaderUnavailable if sw3 in READER_SW3 else CardError
    return cls(code, message)
