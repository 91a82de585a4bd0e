"""`hall device …` commands, run in-process through their argparse registration."""

from __future__ import annotations

import argparse
import json

import pytest

from drivers.idcard import SAMPLES, IdCardEmulator
from drivers.printer import decode
from hallcli import device


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="hall")
    device.register(parser.add_subparsers())
    args = parser.parse_args(["device", *argv])
    return args.func(args)


def test_idcard_read_prints_contract_json_as_the_last_line(capsys) -> None:
    with IdCardEmulator(cards=[SAMPLES["foreign2023"]]) as emu:
        assert run(["idcard", "read", "--url", emu.url, "--timeout", "3"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    data = json.loads(last)
    assert data["card_type"] == "foreign_2023" and data["name"] == "艾丽卡"
    assert data["english_name"] == "MUSTERFRAU, ERIKA"
    assert data["id_number"] == "944276198504120021"  # the diagnostic shows the full number
    assert data["valid_to"] == "2034-02-01"


def test_idcard_read_timeout_is_exit_1_with_one_line(capsys) -> None:
    with IdCardEmulator() as emu:
        assert run(["idcard", "read", "--url", emu.url, "--timeout", "0.3"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("timeout") and "\n" not in err


def test_idcard_read_error_is_exit_1(capsys) -> None:
    assert run(["idcard", "read", "--url", "serial:///dev/no-such-reader", "--timeout", "0"]) == 1
    assert "port_open_failed" in capsys.readouterr().err
    assert run(["idcard", "read", "--url", "usb://0x0400:0xc35a"]) == 1


def test_printer_sample_to_a_file_decodes(tmp_path, capsys) -> None:
    out = tmp_path / "ticket.bin"
    assert run(["printer", "sample", "--url", f"file://{out}", "--paper", "58"]) == 0
    decoded = decode(out.read_bytes())
    assert "A023" in decoded.text and decoded.qr and decoded.cuts == 1
    assert run(["printer", "decode", str(out)]) == 0
    assert "QR: https://hall.example/t/A023" in capsys.readouterr().out


@pytest.mark.parametrize(("url", "code"), [("fake://", 0), ("fake://?paper_state=out", 1)])
def test_printer_status(url: str, code: int, capsys) -> None:
    assert run(["printer", "status", "--url", url]) == code
    health = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert health["state"] == ("ok" if code == 0 else "error")


def test_printer_sample_not_printed_when_paper_is_out(capsys) -> None:
    assert run(["printer", "sample", "--url", "fake://?paper_state=out"]) == 1
    assert "paper_out" in capsys.readouterr().err


def test_camera_scan_an_image_file(tmp_path, capsys) -> None:
    import cv2

    from drivers.camera import qr_image

    path = tmp_path / "gbk.png"
    cv2.imwrite(str(path), qr_image("预约签到 C005".encode("gbk")))
    assert run(["camera", "scan", "--url", f"file://{path}", "--timeout", "2"]) == 0
    assert capsys.readouterr().out.strip() == "预约签到 C005"


def test_device_list(capsys) -> None:
    assert run(["list"]) == 0
    out = capsys.readouterr().out
    assert "serial ports:" in out and "printer:" in out


def test_idcard_emulate_prints_a_url_a_reader_can_use(capsys) -> None:
    assert run(["idcard", "emulate", "--card", "lisi", "--duration", "0.2"]) == 0
    url = capsys.readouterr().out.strip().splitlines()[-1]
    assert url.startswith("tcp://127.0.0.1:")
    assert run(["idcard", "emulate", "--card", "nobody"]) == 1
