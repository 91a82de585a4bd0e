"""`hall device …`: diagnostics for the hall's devices (ID card reader, printer, camera, keypad,
LED strips).

Each command imports its driver lazily so `hall --help` stays fast. Exit status: 0 on success,
1 with a one-line reason on stderr otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

URL_SCHEMES = {
    "idcard": "serial:///dev/ttyUSB0?baud=115200, tcp://HOST:PORT, fake://[?card=zhangsan]",
    "printer": "usb://0x0416:0x5011[?out_ep=0x03], tcp://HOST:9100, serial:///dev/ttyS0?baud=9600, "
    "file:///path/out.bin, fake://  (options: paper=58|80, encoding=gb18030|gbk, qr=native|raster)",
    "evaluator": "serial:///dev/ttyUSB1?baud=9600, tcp://HOST:PORT, fake://",
    "camera": "camera://0, file:///path/image.png|video.mp4, fake://",
    "led": "serial:///dev/ttyUSB2?baud=9600[&rs485=1], tcp://HOST:PORT, fake://",
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("device", help="device diagnostics: ID card reader, printer, camera, keypad")
    kinds = p.add_subparsers(dest="device_kind", metavar="KIND")

    lst = kinds.add_parser("list", help="serial ports on this machine and device URL schemes")
    lst.add_argument("--config", help="hall TOML file whose [devices] section to show")
    lst.set_defaults(func=cmd_list)

    idcard = kinds.add_parser("idcard", help="resident ID card reader").add_subparsers(
        metavar="ACTION"
    )
    read = idcard.add_parser("read", help="wait for one card and print it as JSON (full number!)")
    read.add_argument("--url", required=True, help=URL_SCHEMES["idcard"])
    read.add_argument("--timeout", type=float, default=10.0, help="seconds to wait (default 10)")
    read.set_defaults(func=cmd_idcard_read)
    emu = idcard.add_parser(
        "emulate", help="run a reader emulator serving sample cards; prints its URL"
    )
    emu.add_argument("--pty", action="store_true", help="serve on a pseudo-terminal instead of TCP")
    emu.add_argument("--host", default="127.0.0.1")
    emu.add_argument("--port", type=int, default=0, help="TCP port (default: any free port)")
    emu.add_argument("--card", action="append", help="sample card name (repeatable; default: all)")
    emu.add_argument(
        "--gap", type=float, default=3.0, help="seconds before the next card is placed"
    )
    emu.add_argument("--duration", type=float, default=0, help="stop after this many seconds")
    emu.set_defaults(func=cmd_idcard_emulate)

    printer = kinds.add_parser("printer", help="ticket printer").add_subparsers(metavar="ACTION")
    sample = printer.add_parser(
        "sample", help="print a sample ticket (Chinese, big number, QR, cut)"
    )
    sample.add_argument("--url", required=True, help=URL_SCHEMES["printer"])
    sample.add_argument("--paper", type=int, choices=(58, 80), default=None)
    sample.add_argument("--encoding", choices=("gb18030", "gbk"), default=None)
    sample.add_argument("--raster-qr", action="store_true", help="QR as an image (no GS ( k)")
    sample.set_defaults(func=cmd_printer_sample)
    status = printer.add_parser("status", help="ask the printer for paper/cover/online status")
    status.add_argument("--url", required=True, help=URL_SCHEMES["printer"])
    status.set_defaults(func=cmd_printer_status)
    decode = printer.add_parser("decode", help="decode captured ESC/POS bytes into text lines")
    decode.add_argument("file")
    decode.add_argument("--encoding", default="gb18030")
    decode.set_defaults(func=cmd_printer_decode)

    camera = kinds.add_parser("camera", help="camera / QR scanner").add_subparsers(metavar="ACTION")
    scan = camera.add_parser("scan", help="print the text of the first QR code seen")
    scan.add_argument("--url", required=True, help=URL_SCHEMES["camera"])
    scan.add_argument("--timeout", type=float, default=10.0)
    scan.set_defaults(func=cmd_camera_scan)

    evaluator = kinds.add_parser("evaluator", help="evaluator keypad").add_subparsers(
        metavar="ACTION"
    )
    listen = evaluator.add_parser("listen", help="print ratings pressed on the keypad")
    listen.add_argument("--url", required=True, help=URL_SCHEMES["evaluator"])
    listen.add_argument("--timeout", type=float, default=30.0)
    listen.add_argument("--count", type=int, default=1, help="exit after this many ratings")
    listen.set_defaults(func=cmd_evaluator_listen)

    _register_led(kinds)
    from hallcli.bridges import register_caller, register_evaluator_run

    register_evaluator_run(evaluator)
    register_caller(kinds)
    from hallcli.busbridge import register_bus

    register_bus(kinds)

    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _register_led(kinds: argparse._SubParsersAction) -> None:
    led = kinds.add_parser("led", help="LED strips over RS-485 (条屏)").add_subparsers(
        metavar="ACTION"
    )
    run = led.add_parser("run", help="show each window's calls on its strip (bridge to the server)")
    run.add_argument("--url", required=True, help=URL_SCHEMES["led"])
    run.add_argument("--server", required=True, help="queue server, e.g. http://127.0.0.1:8080")
    run.add_argument("--token", required=True, help="a display token (hall token --role display)")
    run.add_argument("--config", help="hall TOML file whose [led] section to use (default: demo)")
    run.add_argument("--duration", type=float, default=0, help="stop after this many seconds")
    run.set_defaults(func=cmd_led_run)
    send = led.add_parser("send", help="send one text to one strip")
    send.add_argument("--url", required=True, help=URL_SCHEMES["led"])
    send.add_argument("--address", type=int, required=True, help="bus address 0-255")
    send.add_argument("--text", required=True)
    send.add_argument("--config", help="hall TOML file whose [led] section to use")
    send.set_defaults(func=cmd_led_send)
    emu = led.add_parser("emulate", help="a bus of strips on a pty that prints decoded frames")
    emu.add_argument("--template", default=None, help="cnqs or colon (default: the config's)")
    emu.add_argument("--config", help="hall TOML file whose [led] section to use")
    emu.add_argument("--answer", default="", help="hex bytes each strip answers, e.g. 06")
    emu.add_argument("--duration", type=float, default=0, help="stop after this many seconds")
    emu.set_defaults(func=cmd_led_emulate)


def _led_setup(config: str | None, template_name: str | None = None):  # type: ignore[no-untyped-def]
    """(template, texts, led settings) from a hall file's [led] section."""
    from drivers.led import LedTexts, make_template
    from queue_server.base.config import load_config

    led = load_config(config).led
    template = make_template(
        template_name or led.template,
        layout=led.layout,
        command=led.command,
        checksum=led.checksum,
        encoding=led.encoding,
        escape=led.escape,
    )
    texts = LedTexts(
        text=led.text,
        paused_text=led.paused_text,
        idle_text=led.idle_text,
        addresses={int(k): v for k, v in led.addresses.items()},
    )
    return template, texts, led


def cmd_led_run(args: argparse.Namespace) -> int:
    import threading

    from drivers.led import LedBridge, LedTemplateError, open_led_bus
    from drivers.urls import DeviceUrlError
    from queue_server.base.config import HallConfigError

    _utf8_stdout()
    try:
        template, texts, led = _led_setup(args.config)
        bus = open_led_bus(
            args.url, template, queue_size=led.queue_size, answer_timeout=led.answer_timeout_s
        )
    except (DeviceUrlError, LedTemplateError, HallConfigError, ValueError) as e:
        return _fail(f"LED setup: {e}")
    bus.start()
    bridge = LedBridge(args.server, args.token, bus, texts)
    print(f"LED bridge: {args.url} ({template.name}) <- {args.server}", file=sys.stderr)
    if args.duration:
        threading.Timer(args.duration, bridge.stop).start()
    try:
        bridge.run()
    except PermissionError:
        return _fail("the server refused the token (401): use a display token")
    except KeyboardInterrupt:
        pass
    finally:
        bridge.stop()
        bus.stop()
    return 0


def cmd_led_send(args: argparse.Namespace) -> int:
    from drivers.led import LedTemplateError, encode_frame, open_led_bus
    from drivers.urls import DeviceUrlError
    from queue_server.base.config import HallConfigError

    try:
        template, _texts, led = _led_setup(args.config)
        frame = encode_frame(template, args.address, args.text)
        bus = open_led_bus(args.url, template, answer_timeout=led.answer_timeout_s).start()
    except (DeviceUrlError, LedTemplateError, HallConfigError, ValueError) as e:
        return _fail(f"LED setup: {e}")
    try:
        bus.show(args.address, args.text)
        deadline = time.monotonic() + 10.0
        while bus.sent == 0 and bus.health().state != "error" and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        bus.stop()
    health = bus.health()
    print(f"{frame.hex(' ')}  ({len(frame)} bytes, {health.state}: {health.message})")
    if bus.sent == 0 or health.state == "error":
        return _fail(f"not sent: {health.reason}: {health.message}")
    return 0


def cmd_led_emulate(args: argparse.Namespace) -> int:
    from drivers.led import LedEmulator, LedTemplateError
    from queue_server.base.config import HallConfigError

    _utf8_stdout()
    try:
        template, _texts, _led = _led_setup(args.config, args.template)
        answer = bytes.fromhex(args.answer)
    except (LedTemplateError, HallConfigError, ValueError) as e:
        return _fail(f"LED setup: {e}")
    emulator = LedEmulator(template, answer=answer).start()
    print(f"emulating LED strips ({template.name}) on a pty", file=sys.stderr)
    print(emulator.url, flush=True)
    shown = 0
    try:
        deadline = time.monotonic() + args.duration if args.duration else None
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.1)
            for frame in emulator.frames[shown:]:
                print(f"strip {frame.address}: {frame.text}", flush=True)
            shown = len(emulator.frames)
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
    return 0


def _fail(reason: str) -> int:
    print(reason.replace("\n", " "), file=sys.stderr)
    return 1


def _utf8_stdout() -> None:
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(encoding="utf-8")


def cmd_list(args: argparse.Namespace) -> int:
    from serial.tools import list_ports

    _utf8_stdout()
    ports = sorted(list_ports.comports(), key=lambda port: port.device)
    print("serial ports:")
    for port in ports:
        print(f"  {port.device}  {port.description}  {port.hwid}")
    if not ports:
        print("  (none found)")
    expected = _configured_devices(args.config)
    if expected:
        print("hall config [devices]:")
        for kind, url in expected.items():
            print(f"  {kind} = {url}")
    else:
        print("hall config: no [devices] section; device URL schemes:")
        for kind, schemes in URL_SCHEMES.items():
            print(f"  {kind}: {schemes}")
    return 0


def _configured_devices(path: str | None) -> dict[str, str]:
    """The config's [devices] section if the config model has one (it may not yet)."""
    try:
        from queue_server.base.config import load_config

        devices = getattr(load_config(path), "devices", None)
    except Exception as e:
        print(f"(hall config not read: {e.__class__.__name__}: {e})", file=sys.stderr)
        return {}
    if devices is None:
        return {}
    items = devices.model_dump() if hasattr(devices, "model_dump") else dict(devices)
    return {k: str(v) for k, v in items.items() if v}


def cmd_idcard_read(args: argparse.Namespace) -> int:
    from drivers.idcard import IdCardError, open_reader
    from drivers.urls import DeviceUrlError, parse_device_url

    _utf8_stdout()
    try:
        reader = open_reader(args.url)
        parsed = parse_device_url(args.url)
        if parsed.scheme == "fake" and not (parsed.params.get("card") or parsed.host):
            from drivers.idcard import SAMPLE_CARDS

            reader.place(SAMPLE_CARDS[0])  # type: ignore[attr-defined]
            print("fake reader: serving sample card 张三", file=sys.stderr)
        with reader:
            card = reader.read_card(timeout=args.timeout)
    except DeviceUrlError as e:
        return _fail(f"bad device URL: {e}")
    except IdCardError as e:
        return _fail(f"reader error: {e.code}: {e.message}")
    if card is None:
        return _fail(f"timeout: no card within {args.timeout:g} s")
    print(json.dumps(card.to_json_dict(), ensure_ascii=False), flush=True)
    return 0


def cmd_idcard_emulate(args: argparse.Namespace) -> int:
    from drivers.idcard import SAMPLES, IdCardEmulator

    names = args.card or list(SAMPLES)
    unknown = [n for n in names if n not in SAMPLES]
    if unknown:
        return _fail(f"unknown sample card(s): {', '.join(unknown)} (known: {', '.join(SAMPLES)})")
    emulator = IdCardEmulator(
        cards=[SAMPLES[n] for n in names],
        transport="pty" if args.pty else "tcp",
        host=args.host,
        port=args.port,
        swipe_gap=args.gap,
    ).start()
    print(f"emulating an ID card reader with {len(names)} sample card(s)", file=sys.stderr)
    print(emulator.url, flush=True)
    try:
        deadline = time.monotonic() + args.duration if args.duration else None
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
    return 0


def cmd_printer_sample(args: argparse.Namespace) -> int:
    from drivers.printer import open_printer, sample_ticket
    from drivers.urls import DeviceUrlError

    options: dict = {}
    if args.paper:
        options["paper_mm"] = args.paper
    if args.encoding:
        options["encoding"] = args.encoding
    if args.raster_qr:
        options["native_qr"] = False
    try:
        printer = open_printer(args.url, **options)
    except (DeviceUrlError, ValueError) as e:
        return _fail(f"bad printer URL: {e}")
    try:
        result = printer.print_ticket(sample_ticket())
    finally:
        printer.close()
    _utf8_stdout()
    health = result.health
    if not result.printed:
        return _fail(f"not printed: {result.reason}: {health.message}")
    print(
        f"sample ticket printed ({printer.paper_mm} mm, {printer.encoding}); status {health.state}: {health.message}"
    )
    return 0


def cmd_printer_status(args: argparse.Namespace) -> int:
    from drivers.printer import open_printer
    from drivers.urls import DeviceUrlError

    try:
        printer = open_printer(args.url)
    except (DeviceUrlError, ValueError) as e:
        return _fail(f"bad printer URL: {e}")
    try:
        health = printer.status()
    finally:
        printer.close()
    _utf8_stdout()
    print(json.dumps(health.as_dict(), ensure_ascii=False))
    return 1 if health.state == "error" else 0


def cmd_printer_decode(args: argparse.Namespace) -> int:
    from drivers.printer import decode

    _utf8_stdout()
    try:
        data = Path(args.file).read_bytes()
    except OSError as e:
        return _fail(f"cannot read {args.file}: {e.strerror}")
    decoded = decode(data, args.encoding)
    for line in decoded.lines:
        size = f"x{line.width}/{line.height}" if (line.width, line.height) != (1, 1) else ""
        print(f"{line.align[0]}{size:>6} | {line.text}")
    for payload in decoded.qr:
        print(f"QR: {payload}")
    for width, height in decoded.rasters:
        print(f"image: {width}x{height} dots")
    print(f"cuts: {decoded.cuts}, unknown commands: {decoded.unknown}")
    return 0


def cmd_camera_scan(args: argparse.Namespace) -> int:
    from drivers.camera import CvCamera, decode_qr, open_camera
    from drivers.urls import DeviceUrlError

    _utf8_stdout()
    try:
        camera = open_camera(args.url)
    except DeviceUrlError as e:
        return _fail(f"bad camera URL: {e}")
    health = camera.health()
    if health.state == "error":
        return _fail(f"camera error: {health.reason}: {health.message}")
    deadline = time.monotonic() + args.timeout
    try:
        while time.monotonic() < deadline:
            frame = camera.read()
            if frame is None:
                if isinstance(camera, CvCamera) and camera.finished:
                    break
                time.sleep(0.03)
                continue
            texts = decode_qr(frame)
            if texts:
                for text in texts:
                    print(text)
                return 0
    finally:
        camera.close()
    return _fail(f"no QR code found within {args.timeout:g} s")


def cmd_evaluator_listen(args: argparse.Namespace) -> int:
    from drivers.evaluator import Score, open_keypad
    from drivers.urls import DeviceUrlError

    _utf8_stdout()
    scores: list[Score] = []

    def on_score(score: Score) -> None:
        scores.append(score)
        print(f"window {score.addr}: {score.level} {score.label}", flush=True)

    try:
        keypad = open_keypad(args.url, on_score=on_score).start()
    except DeviceUrlError as e:
        return _fail(f"bad keypad URL: {e}")
    deadline = time.monotonic() + args.timeout
    try:
        while len(scores) < args.count and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        keypad.stop()
    if len(scores) < args.count:
        return _fail(f"timeout: {len(scores)} of {args.count} rating(s) within {args.timeout:g} s")
    return 0
