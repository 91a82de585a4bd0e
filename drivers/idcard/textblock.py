"""The 256-byte text block of a read (GA/T 467): UCS-2 LE fields padded with spaces.

The card type flag is always at offset 248; the other offsets depend on the type (table in
docs/DEVICES.md). `parse_text` validates every field and the ID check character, so a card that
reaches the kiosk is well formed; `encode_text` is its inverse, used by the emulator.
"""

from __future__ import annotations

from datetime import date

from halldomain.idnumber import IdNumberError, parse_id_number

from .model import FLAG_FOR_TYPE, TYPE_FLAGS, CardType, Gender, IdCard
from .nations import nation_code, nation_name

TEXT_LEN = 256
PHOTO_LEN = 1024
FLAG = (248, 2)

# field -> (offset, size in bytes)
Layout = dict[str, tuple[int, int]]
RESIDENT: Layout = {
    "name": (0, 30),
    "gender": (30, 2),
    "nation": (32, 4),
    "birth": (36, 16),
    "address": (52, 70),
    "id_number": (122, 36),
    "authority": (158, 30),
    "valid_from": (188, 16),
    "valid_to": (204, 16),
}
HK_MO_TW: Layout = RESIDENT | {"permit_number": (220, 18), "issue_count": (238, 4)}
FOREIGN_2017: Layout = {
    "english_name": (0, 120),
    "gender": (120, 2),
    "id_number": (122, 30),
    "country": (152, 6),
    "name": (158, 30),
    "valid_from": (188, 16),
    "valid_to": (204, 16),
    "birth": (220, 16),
    "card_version": (236, 4),
    "issuing_office": (240, 8),
}
FOREIGN_2023: Layout = {
    "name": (0, 30),
    "gender": (30, 2),
    "issue_count": (32, 4),
    "birth": (36, 16),
    "english_name_1": (52, 70),
    "id_number": (122, 36),
    "valid_from": (188, 16),
    "valid_to": (204, 16),
    "english_name_2": (220, 22),
    "country": (242, 6),
}
LAYOUTS: dict[CardType, Layout] = {
    "resident": RESIDENT,
    "hk_mo_tw": HK_MO_TW,
    "foreign_2017": FOREIGN_2017,
    "foreign_2023": FOREIGN_2023,
}
GENDERS: dict[str, Gender] = {"1": "male", "2": "female"}
LONG_TERM_TEXT = "长期"


class CardDataError(ValueError):
    """The card's text cannot be trusted; `message` is Chinese for the citizen."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def _field(text: bytes, offset: int, size: int) -> str:
    return text[offset : offset + size].decode("utf-16-le", errors="replace").strip(" \x00")


def _date(value: str, what: str) -> date:
    try:
        if len(value) != 8 or not value.isdigit():
            raise ValueError
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        raise CardDataError("bad_date", f"证件{what}日期无效") from None


def card_type_of(text: bytes) -> CardType:
    flag = _field(text, *FLAG)
    try:
        return TYPE_FLAGS[flag]
    except KeyError:
        raise CardDataError("unknown_card_type", "无法识别的证件类型") from None


def parse_text(text: bytes, photo: bytes = b"") -> IdCard:
    """Turn a 256-byte text block into an IdCard; raise CardDataError if anything is off."""
    if len(text) != TEXT_LEN:
        raise CardDataError("bad_length", "证件信息长度错误，请重新放置证件")
    card_type = card_type_of(text)
    f = {key: _field(text, off, size) for key, (off, size) in LAYOUTS[card_type].items()}
    if card_type == "foreign_2023":
        # part 1 is only padded when the name is short; a full part 1 may end in a real space
        part1 = text[52:122].decode("utf-16-le", errors="replace")
        part2 = f.pop("english_name_2")
        f.pop("english_name_1")
        f["english_name"] = (part1 + part2).strip() if part2 else part1.strip()
    gender = GENDERS.get(f["gender"])
    if gender is None:
        raise CardDataError("bad_gender", "证件性别信息无效")
    id_number = _checked_id(card_type, f["id_number"])
    nation = ""
    if card_type in ("resident", "hk_mo_tw") and f["nation"]:
        nation = nation_name(f["nation"]) or f["nation"]
    valid_to = None if f["valid_to"] == LONG_TERM_TEXT else _date(f["valid_to"], "有效期截止")
    name = f["name"] or f.get("english_name", "")
    if not name:
        raise CardDataError("no_name", "证件姓名为空，请重新放置证件")
    return IdCard(
        card_type=card_type,
        name=name,
        english_name=f.get("english_name", ""),
        gender=gender,
        nation=nation,
        birth=_date(f["birth"], "出生"),
        address=f.get("address", ""),
        id_number=id_number,
        authority=f.get("authority", ""),
        valid_from=_date(f["valid_from"], "有效期起始"),
        valid_to=valid_to,
        country=f.get("country", ""),
        permit_number=f.get("permit_number", ""),
        issue_count=f.get("issue_count", ""),
        photo=photo,
    )


def _checked_id(card_type: CardType, raw: str) -> str:
    try:
        parsed = parse_id_number(raw)
    except IdNumberError as e:
        raise CardDataError(e.code, e.message) from None
    if parsed.kind != card_type:
        raise CardDataError("id_kind_mismatch", "证件号码与证件类型不符")
    return parsed.value


def encode_text(card: IdCard) -> bytes:
    """The inverse of parse_text: the 256-byte block a reader would return for this card."""
    layout = LAYOUTS[card.card_type]
    values = {
        "name": card.name
        if card.card_type != "foreign_2017" or card.name != card.english_name
        else "",
        "english_name": card.english_name,
        "gender": "1" if card.gender == "male" else "2",
        "nation": (nation_code(card.nation) or card.nation) if card.nation else "",
        "birth": card.birth.strftime("%Y%m%d"),
        "address": card.address,
        "id_number": card.id_number,
        "authority": card.authority,
        "valid_from": card.valid_from.strftime("%Y%m%d"),
        "valid_to": card.valid_to.strftime("%Y%m%d") if card.valid_to else LONG_TERM_TEXT,
        "country": card.country,
        "permit_number": card.permit_number,
        "issue_count": card.issue_count,
        "card_version": "",
        "issuing_office": "",
    }
    if card.card_type == "foreign_2023":
        part1, part2 = card.english_name[:35], card.english_name[35:]
        values |= {"english_name_1": part1, "english_name_2": part2}
    block = bytearray(" ".encode("utf-16-le") * (TEXT_LEN // 2))
    for key, (off, size) in layout.items():
        _put(block, off, size, values[key], key)
    _put(block, *FLAG, FLAG_FOR_TYPE[card.card_type], "type")
    return bytes(block)


def _put(block: bytearray, offset: int, size: int, value: str, key: str) -> None:
    raw = value.encode("utf-16-le")
    if len(raw) > size:
        raise ValueError(f"{key} is longer than {size // 2} characters")
    block[offset : offset + len(raw)] = raw
