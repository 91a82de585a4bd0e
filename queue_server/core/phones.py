"""Mainland mobile numbers given for a reminder (叫号提醒), an appointment or a 回访: checked,
and masked wherever they are shown or logged (`138****5678`)."""

from __future__ import annotations

import re

from queue_server.base.errors import Invalid

_PHONE = re.compile(r"^1[3-9]\d{9}$")


def mask_phone(phone: str) -> str:
    """`13812345678` → `138****5678`."""
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:] if len(phone) > 7 else "*" * len(phone)


def check_phone(phone: str | None) -> str | None:
    if phone is None or phone == "":
        return None
    value = phone.strip().replace(" ", "").replace("-", "")
    if value.startswith("+86"):
        value = value[3:]
    if not _PHONE.match(value):
        raise Invalid("手机号码格式不正确，应为11位手机号", "invalid_phone")
    return value
