"""Resident ID numbers (GB 11643-1999) and the masked forms screens may show.

A citizen ID number is 18 characters: a 6-digit region code, an 8-digit birth date, a 3-digit
sequence (odd = male) and a check character computed by ISO 7064 MOD 11-2. The same layout and
check are used by HK/Macau/Taiwan residence permits (region 810000/820000/830000) and by the
2023 foreigner permanent residence card (first digit 9). The 2017 foreigner card carries a
15-character number (3-letter country code, 12 digits) with no MOD 11-2 check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_TABLE = "10X98765432"
_RESIDENT = re.compile(r"^\d{17}[\dX]$")
_FOREIGN_2017 = re.compile(r"^[A-Z]{3}\d{12}$")
# Common two-character surnames (复姓): the whole surname stays visible when masking.
COMPOUND_SURNAMES = frozenset(
    [
        "欧阳",
        "司马",
        "上官",
        "诸葛",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "长孙",
        "宇文",
        "司徒",
        "令狐",
        "夏侯",
        "轩辕",
        "端木",
        "独孤",
        "南宫",
        "西门",
        "申屠",
        "呼延",
        "万俟",
        "闻人",
        "澹台",
        "公冶",
        "太史",
        "赫连",
        "钟离",
        "宗政",
        "濮阳",
        "淳于",
        "单于",
    ]
)


class IdNumberError(ValueError):
    """An ID number that is not well formed; `message` is Chinese for the citizen."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class IdNumber:
    """A validated ID number; `value` is normalised (upper-case X)."""

    value: str
    kind: str  # "resident" | "hk_mo_tw" | "foreign_2017" | "foreign_2023"
    birth: date | None

    def age_on(self, day: date) -> int | None:
        if self.birth is None:
            return None
        return (
            day.year - self.birth.year - ((day.month, day.day) < (self.birth.month, self.birth.day))
        )

    @property
    def masked(self) -> str:
        return mask_id_number(self.value)


def check_character(first17: str) -> str:
    """The MOD 11-2 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_TABLE[total % 11]


def parse_id_number(raw: str) -> IdNumber:
    """Validate an ID number; raise IdNumberError with a Chinese message if it is wrong."""
    value = (raw or "").strip().upper()
    if _FOREIGN_2017.match(value):
        return IdNumber(value, "foreign_2017", None)
    if not _RESIDENT.match(value):
        raise IdNumberError("id_format", "证件号码格式不正确，应为18位")
    if check_character(value[:17]) != value[17]:
        raise IdNumberError("id_check_digit", "证件号码校验位不正确，请核对后重试")
    try:
        birth = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise IdNumberError("id_birth_date", "证件号码中的出生日期无效") from None
    if birth.year < 1880:
        raise IdNumberError("id_birth_date", "证件号码中的出生日期无效")
    if value[0] == "9":
        kind = "foreign_2023"
    elif value[:2] in ("81", "82", "83"):
        kind = "hk_mo_tw"
    else:
        kind = "resident"
    return IdNumber(value, kind, birth)


def mask_id_number(value: str) -> str:
    """`440102199001011234` → `4401**********1234`: the only form screens and tickets show."""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_name(name: str) -> str:
    """`张三` → `张*`, `欧阳娜娜` → `欧阳**`, `John Smith` → `J*** S****`."""
    name = (name or "").strip()
    if not name:
        return ""
    if name.isascii():
        return " ".join(w[0] + "*" * (len(w) - 1) for w in name.split())
    keep = 2 if len(name) > 2 and name[:2] in COMPOUND_SURNAMES else 1
    return name[:keep] + "*" * (len(name) - keep)
