"""The card as the kiosk sees it (docs/DEVICES.md, "ID card JSON"), with repr and logs that never show the full ID."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from halldomain.idnumber import mask_id_number, mask_name

CardType = Literal["resident", "hk_mo_tw", "foreign_2017", "foreign_2023"]
Gender = Literal["male", "female"]
LONG_TERM = "long-term"

# GA/T 467 type flag at text offset 248
TYPE_FLAGS: dict[str, CardType] = {
    "": "resident",
    "J": "hk_mo_tw",
    "I": "foreign_2017",
    "Y": "foreign_2023",
}
FLAG_FOR_TYPE: dict[str, str] = {v: k for k, v in TYPE_FLAGS.items()}


@dataclass(frozen=True, repr=False)
class IdCard:
    """One card read. `photo` is the raw WLT blob: kept in memory only, never in JSON or repr."""

    card_type: CardType
    name: str
    gender: Gender
    birth: date
    id_number: str
    valid_from: date
    valid_to: date | None  # None = 长期 (long-term)
    english_name: str = ""
    nation: str = ""  # Chinese name as printed, e.g. 汉
    address: str = ""
    authority: str = ""
    country: str = ""  # GB/T 2659 three-letter code on foreigner cards
    permit_number: str = ""  # 通行证号码 on HK/Macau/Taiwan residence permits
    issue_count: str = ""  # 签发次数 (J) or 换证次数 (Y)
    photo: bytes = field(default=b"", compare=False)

    def to_json_dict(self) -> dict[str, Any]:
        """docs/DEVICES.md "ID card JSON": exactly the documented keys; optional ones only when the card has them."""
        out: dict[str, Any] = {"card_type": self.card_type, "name": self.name}
        if self.card_type in ("foreign_2017", "foreign_2023") or self.english_name:
            out["english_name"] = self.english_name
        out["gender"] = self.gender
        if self.card_type == "resident" or self.nation:
            out["nation"] = self.nation
        out["birth"] = self.birth.isoformat()
        if self.card_type in ("resident", "hk_mo_tw"):
            out["address"] = self.address
        out["id_number"] = self.id_number
        if self.card_type in ("resident", "hk_mo_tw"):
            out["authority"] = self.authority
        out["valid_from"] = self.valid_from.isoformat()
        out["valid_to"] = self.valid_to.isoformat() if self.valid_to else LONG_TERM
        return out

    def age_on(self, day: date) -> int:
        b = self.birth
        return day.year - b.year - ((day.month, day.day) < (b.month, b.day))

    @property
    def masked_id(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def masked_name(self) -> str:
        return mask_name(self.name)

    def photo_image(self) -> bytes | None:
        """The photo decoded by the registered decoder (e.g. to BMP), or None without one."""
        return _photo_decoder(self.photo) if self.photo else None

    def __repr__(self) -> str:
        return f"IdCard(card_type={self.card_type!r}, name={self.masked_name!r}, id_number={self.masked_id!r})"


PhotoDecoder = Callable[[bytes], bytes | None]


def _no_decoder(_: bytes) -> bytes | None:
    return None


_photo_decoder: PhotoDecoder = _no_decoder


def set_photo_decoder(decoder: PhotoDecoder | None) -> None:
    """Register a WLT decoder (only licensed vendor libraries decode it); None removes it."""
    global _photo_decoder
    _photo_decoder = decoder or _no_decoder
