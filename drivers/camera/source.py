"""Frame sources chosen by URL: a camera index, image or video files, or the fake.

camera://0  (or just 0)      OpenCV VideoCapture on camera index 0
file:///path/code.png        an image, returned on every read
file:///path/clip.mp4        a video, frame by frame, then None
fake://                      frames fed from code: feed_payload("…") or feed_image(img)
"""

from __future__ import annotations

import queue
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
import qrcode

from drivers.base import Health
from drivers.urls import DeviceUrlError, parse_device_url

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}


class Camera(Protocol):
    def read(self) -> np.ndarray | None: ...

    def health(self) -> Health: ...

    def close(self) -> None: ...


class CvCamera:
    """OpenCV capture of a camera index or a video file; read() is called from one thread."""

    def __init__(self, source: int | str) -> None:
        self.source = source
        self.capture = cv2.VideoCapture(source)
        self.finished = False

    def read(self) -> np.ndarray | None:
        ok, frame = self.capture.read()
        if not ok:
            self.finished = isinstance(self.source, str)
            return None
        return frame

    def health(self) -> Health:
        if self.capture.isOpened():
            return Health("ok", "ok", "摄像头正常")
        return Health("error", "not_opened", "无法打开摄像头")

    def close(self) -> None:
        self.capture.release()


class ImageCamera:
    """A still image, as if the camera saw it forever."""

    def __init__(self, path: str) -> None:
        data = np.fromfile(path, dtype=np.uint8) if Path(path).exists() else np.empty(0, np.uint8)
        self.image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None

    def read(self) -> np.ndarray | None:
        return self.image

    def health(self) -> Health:
        if self.image is None:
            return Health("error", "unreadable", "无法读取图片文件")
        return Health("ok", "ok", "图片源正常")

    def close(self) -> None:
        pass


def qr_image(payload: str | bytes, box_size: int = 8) -> np.ndarray:
    """A BGR image of a QR code; bytes are stored as they are (e.g. GBK without ECI)."""
    code = qrcode.QRCode(box_size=box_size, border=4)
    code.add_data(payload)
    code.make(fit=True)
    gray = np.array(code.make_image().get_image().convert("L"))
    return cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)


class FakeCamera:
    """`fake://`: each fed image or payload is returned by one read(); then None."""

    def __init__(self) -> None:
        self._frames: queue.Queue[np.ndarray] = queue.Queue()
        self.connected = True

    def feed_image(self, image: Any) -> None:
        self._frames.put(np.asarray(image))

    def feed_payload(self, text: str, encoding: str = "utf-8") -> None:
        """Show the camera a QR code holding `text` encoded as `encoding` (gbk: no ECI)."""
        self.feed_image(qr_image(text.encode(encoding)))

    def read(self) -> np.ndarray | None:
        try:
            return self._frames.get_nowait()
        except queue.Empty:
            return None

    def health(self) -> Health:
        if not self.connected:
            return Health("error", "disconnected", "摄像头未连接")
        return Health("ok", "ok", "摄像头正常")

    def close(self) -> None:
        pass


def open_camera(url: str | int) -> Camera:
    if isinstance(url, int) or str(url).isdigit():
        return CvCamera(int(url))
    parsed = parse_device_url(str(url))
    if parsed.scheme == "fake":
        return FakeCamera()
    if parsed.scheme == "camera":
        index = parsed.host or parsed.path.strip("/") or "0"
        if not index.isdigit():
            raise DeviceUrlError(f"{url}: expected camera://INDEX, e.g. camera://0")
        return CvCamera(int(index))
    if parsed.scheme == "file":
        if Path(parsed.path).suffix.lower() in IMAGE_SUFFIXES:
            return ImageCamera(parsed.path)
        return CvCamera(parsed.path)
    raise DeviceUrlError(f"{url}: cameras support camera://INDEX, file:// and fake:// URLs")
