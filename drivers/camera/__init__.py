"""Cameras and QR codes (OpenCV): sources by URL, decoding with GBK recovery, a scanner thread."""

from __future__ import annotations

from .qr import decode_qr, recover_text
from .scanner import QrScanner
from .source import Camera, CvCamera, FakeCamera, ImageCamera, open_camera, qr_image

__all__ = [
    "Camera",
    "CvCamera",
    "FakeCamera",
    "ImageCamera",
    "QrScanner",
    "decode_qr",
    "open_camera",
    "qr_image",
    "recover_text",
]
