"""Checksums LED strip vendors put in their frames: none, sum8, xor8, crc16-modbus."""

from __future__ import annotations

from collections.abc import Callable


def sum8(data: bytes) -> bytes:
    """Low byte of the sum of the bytes (CNQS-style frames)."""
    return bytes([sum(data) & 0xFF])


def xor8(data: bytes) -> bytes:
    """XOR of the bytes (like the ID card reader's GA/T 467 frames)."""
    out = 0
    for b in data:
        out ^= b
    return bytes([out])


def crc16_modbus(data: bytes) -> bytes:
    """CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF), sent low byte first as Modbus RTU
    does; the check value of b"123456789" is 0x4B37."""
    crc = 0xFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc.to_bytes(2, "little")


def no_checksum(data: bytes) -> bytes:
    return b""


CHECKSUMS: dict[str, Callable[[bytes], bytes]] = {
    "none": no_checksum,
    "sum8": sum8,
    "xor8": xor8,
    "crc16-modbus": crc16_modbus,
}
CHECKSUM_SIZES = {"none": 0, "sum8": 1, "xor8": 1, "crc16-modbus": 2}
