"""Device URLs: parsing, the pyserial mapping, and clean errors for anything else."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.urls import DeviceUrlError, parse_device_url, pyserial_target


def test_parse_the_documented_forms() -> None:
    serial = parse_device_url("serial:///dev/ttyUSB0?baud=115200")
    assert (serial.scheme, serial.path, serial.param_int("baud", 0)) == (
        "serial",
        "/dev/ttyUSB0",
        115200,
    )
    tcp = parse_device_url("tcp://192.168.1.50:9100")
    assert (tcp.host, tcp.port) == ("192.168.1.50", 9100)
    assert parse_device_url("usb://0x0416:0x5011").scheme == "usb"
    assert parse_device_url("file:///tmp/out.bin").path == "/tmp/out.bin"
    assert parse_device_url("fake://").scheme == "fake"
    assert parse_device_url("/dev/ttyS0").scheme == "serial"


def test_pyserial_mapping() -> None:
    assert pyserial_target("serial:///dev/ttyUSB0?baud=9600", 115200) == ("/dev/ttyUSB0", 9600)
    assert pyserial_target("serial:///dev/ttyUSB0", 115200) == ("/dev/ttyUSB0", 115200)
    assert pyserial_target("tcp://10.0.0.2:4001", 9600) == ("socket://10.0.0.2:4001", 9600)
    assert pyserial_target("loop://", 9600) == ("loop://", 9600)
    for bad in ("tcp://host", "serial://", "file:///x", "nonsense", "serial:///dev/x?baud=fast"):
        with pytest.raises(DeviceUrlError):
            pyserial_target(bad, 9600)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=60))
def test_any_string_parses_or_is_a_device_url_error(text: str) -> None:
    try:
        pyserial_target(text, 9600)
    except DeviceUrlError:
        pass


def test_usb_ids() -> None:
    from drivers.printer.printer import usb_ids

    parsed = parse_device_url("usb://0x0416:0x5011?out_ep=0x03")
    assert usb_ids(parsed.host, parsed.raw) == (0x0416, 0x5011)
    assert parsed.param_int("out_ep", 1) == 3
    assert usb_ids("0416:5011", "usb://0416:5011") == (0x0416, 0x5011)
    with pytest.raises(DeviceUrlError):
        usb_ids("printer", "usb://printer")
