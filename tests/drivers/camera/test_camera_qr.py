"""QR decoding on images made with the `qrcode` package, GBK without ECI, sources and scanner."""

from __future__ import annotations

import threading

import cv2
import numpy as np
import pytest

from drivers.camera import (
    FakeCamera,
    QrScanner,
    decode_qr,
    open_camera,
    qr_image,
    recover_text,
)

CHINESE = "预约签到：A023 武江区政务服务中心（不动产登记）"


@pytest.mark.parametrize(
    ("payload", "encoding"),
    [
        ("https://hall.example/t/A023?d=2026-05-04", "ascii"),
        (CHINESE, "utf-8"),
        (CHINESE, "gbk"),  # no ECI: OpenCV returns Latin-1 mojibake that we repair
        ("取号", "gbk"),
    ],
)
def test_decodes_generated_codes(payload: str, encoding: str) -> None:
    assert decode_qr(qr_image(payload.encode(encoding))) == [payload]


def test_gbk_really_comes_back_as_latin1_from_opencv() -> None:
    raw, _, _ = cv2.QRCodeDetector().detectAndDecode(qr_image("取号".encode("gbk")))
    assert raw == "取号".encode("gbk").decode("latin-1")  # the trap this module handles


def test_decodes_a_rotated_blurred_small_code_and_a_pil_image() -> None:
    image = qr_image("HALL-CHECKIN-42", box_size=6)
    h, w = image.shape[:2]
    canvas = np.full((h + 200, w + 200, 3), 255, np.uint8)
    canvas[100 : 100 + h, 100 : 100 + w] = image
    matrix = cv2.getRotationMatrix2D((canvas.shape[1] / 2, canvas.shape[0] / 2), 17, 0.9)
    rotated = cv2.warpAffine(canvas, matrix, canvas.shape[1::-1], borderValue=(255, 255, 255))
    assert decode_qr(cv2.GaussianBlur(rotated, (3, 3), 0)) == ["HALL-CHECKIN-42"]
    from PIL import Image

    assert decode_qr(Image.fromarray(image)) == ["HALL-CHECKIN-42"]


def test_no_code_gives_an_empty_list() -> None:
    assert decode_qr(np.full((240, 320, 3), 200, np.uint8)) == []
    noise = np.random.default_rng(1).integers(0, 255, (240, 320), dtype=np.uint8)
    assert decode_qr(noise) == []


def test_recover_text_leaves_real_text_alone() -> None:
    assert recover_text("https://x.example/a") == "https://x.example/a"
    assert recover_text("café") == "café"
    assert recover_text("已是中文") == "已是中文"
    assert recover_text("È¡ºÅ") == "取号"


def test_image_file_url(tmp_path) -> None:
    path = tmp_path / "code.png"
    cv2.imwrite(str(path), qr_image("FILE-CODE"))
    camera = open_camera(f"file://{path}")
    assert camera.health().state == "ok"
    frame = camera.read()
    assert frame is not None and decode_qr(frame) == ["FILE-CODE"]
    assert open_camera(f"file://{tmp_path}/missing.png").health().state == "error"


def test_video_file_url(tmp_path) -> None:
    path = tmp_path / "clip.avi"
    frame = cv2.resize(qr_image("VIDEO-CODE"), (320, 320), interpolation=cv2.INTER_NEAREST)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 5, (320, 320))
    if not writer.isOpened():
        pytest.skip("this OpenCV build cannot write MJPG")
    blank = np.full_like(frame, 255)
    for image in (blank, frame, frame):
        writer.write(image)
    writer.release()
    camera = open_camera(f"file://{path}")
    texts = []
    while (shot := camera.read()) is not None:
        texts += decode_qr(shot)
    assert "VIDEO-CODE" in texts


def test_scanner_thread_reports_each_code_once() -> None:
    camera = open_camera("fake://")
    assert isinstance(camera, FakeCamera)
    texts: list[str] = []
    done = threading.Event()

    def on_text(text: str) -> None:
        texts.append(text)
        if len(texts) == 2:
            done.set()

    scanner = QrScanner(camera, on_text=on_text, interval=0.01).start()
    try:
        camera.feed_payload("预约签到 B001", encoding="gbk")
        camera.feed_payload("预约签到 B001", encoding="gbk")  # held still: not reported again
        camera.feed_payload("https://hall.example/t/B002")
        assert done.wait(5)
    finally:
        scanner.stop()
    assert texts == ["预约签到 B001", "https://hall.example/t/B002"]


def test_scanner_decodes_every_nth_frame() -> None:
    seen: list[str] = []
    scanner = QrScanner(FakeCamera(), on_text=seen.append, decode_every=3, repeat_after=0)
    frame = qr_image("NTH")
    results = [scanner.process(frame) for _ in range(6)]
    assert [bool(r) for r in results] == [False, False, True, False, False, True]
