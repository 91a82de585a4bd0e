"""Device URLs: one string in a hall config chooses the transport for a device.

    serial:///dev/ttyUSB0?baud=115200   a serial port (RS-232, USB-CDC); options as query
    tcp://HOST:9100                     a raw TCP socket (network printer, serial server)
    usb://0x0416:0x5011                 a USB device by vendor:product id (printers)
    file:///path/out.bin                a file (printer output appended)
    fake://                             the in-process fake that tests and --simulate use

pyserial's own URLs (socket://, loop://, spy://, rfc2217://) are passed through unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

KNOWN_SCHEMES = ("serial", "tcp", "usb", "file", "fake", "camera")
PYSERIAL_SCHEMES = ("socket", "loop", "spy", "rfc2217", "hwgrep", "alt")


class DeviceUrlError(ValueError):
    """A device URL that cannot be used; the message says why."""


@dataclass(frozen=True)
class DeviceUrl:
    scheme: str
    host: str = ""
    port: int | None = None
    path: str = ""
    params: dict[str, str] = field(default_factory=dict)
    raw: str = ""

    def param_int(self, name: str, default: int) -> int:
        value = self.params.get(name)
        if value is None:
            return default
        try:
            return int(value, 0)
        except ValueError:
            raise DeviceUrlError(f"{self.raw}: {name}={value!r} is not a number") from None

    def param_float(self, name: str, default: float) -> float:
        value = self.params.get(name)
        if value is None:
            return default
        try:
            return float(value)
        except ValueError:
            raise DeviceUrlError(f"{self.raw}: {name}={value!r} is not a number") from None


def parse_device_url(url: str) -> DeviceUrl:
    """Split a device URL; a bare path such as /dev/ttyUSB0 means serial://."""
    url = (url or "").strip()
    if not url:
        raise DeviceUrlError("empty device URL")
    if url.startswith("/"):
        url = "serial://" + url
    try:
        parts = urlsplit(url)
    except ValueError as e:  # e.g. an unbalanced [ in the host
        raise DeviceUrlError(f"{url}: {e}") from None
    scheme = parts.scheme.lower()
    if not scheme:
        raise DeviceUrlError(f"{url}: no scheme (expected one of {', '.join(KNOWN_SCHEMES)})")
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    if scheme == "usb":  # usb://VID:PID: the "port" is a hex product id
        return DeviceUrl(scheme, host=parts.netloc, path=parts.path, params=params, raw=url)
    try:
        port = parts.port
    except ValueError:
        raise DeviceUrlError(f"{url}: bad port") from None
    return DeviceUrl(
        scheme=scheme,
        host=parts.hostname or "",
        port=port,
        path=unquote(parts.path),
        params=params,
        raw=url,
    )


def pyserial_target(url: str, default_baud: int) -> tuple[str, int]:
    """Map a device URL to what `serial.serial_for_url` takes, plus the baud rate."""
    parsed = parse_device_url(url)
    baud = parsed.param_int("baud", default_baud)
    if parsed.scheme == "serial":
        if not parsed.path:
            raise DeviceUrlError(
                f"{url}: serial URL needs a device path, e.g. serial:///dev/ttyUSB0"
            )
        return parsed.path, baud
    if parsed.scheme == "tcp":
        if not parsed.host or parsed.port is None:
            raise DeviceUrlError(f"{url}: tcp URL needs HOST:PORT")
        return f"socket://{parsed.host}:{parsed.port}", baud
    if parsed.scheme in PYSERIAL_SCHEMES:
        return parsed.raw, baud
    raise DeviceUrlError(f"{url}: scheme {parsed.scheme}:// is not a serial transport")
