"""open_reader(url): the transport chosen by URL (serial://, tcp://, pyserial URLs, fake://)."""

from __future__ import annotations

from typing import Any

from drivers.urls import DeviceUrlError, parse_device_url, pyserial_target

from .reader import IdCardReader

DEFAULT_BAUD = 115200


def open_reader(url: str, **options: Any) -> IdCardReader:
    """A reader for a device URL; `fake://?card=zhangsan` starts with a sample card placed."""
    parsed = parse_device_url(url)
    if parsed.scheme == "fake":
        from .fake import FakeIdCardReader
        from .samples import SAMPLES

        name = parsed.params.get("card") or parsed.host
        if name and name not in SAMPLES:
            raise DeviceUrlError(f"{url}: unknown sample card {name!r} ({', '.join(SAMPLES)})")
        return FakeIdCardReader(SAMPLES[name] if name else None, **options)
    if parsed.scheme == "usb":
        raise DeviceUrlError(
            f"{url}: the reader's USB bulk mode is not supported; switch it to serial/USB-CDC mode"
        )
    target, baud = pyserial_target(url, DEFAULT_BAUD)

    def open_port():  # type: ignore[no-untyped-def]
        import serial

        return serial.serial_for_url(target, baudrate=baud, timeout=0.05, write_timeout=2)

    return IdCardReader(open_port, **options)
