"""Sample cards for tests, the emulator and the demo: valid check digits, obviously fake people."""

from __future__ import annotations

from datetime import date

from .model import IdCard


def _photo(seed: int) -> bytes:
    """A stand-in for the 1,024-byte WLT photo; seed 1 hides a frame preamble inside it."""
    blob = bytearray((i * 37 + seed * 11) % 256 for i in range(1024))
    if seed == 1:
        blob[100:105] = bytes.fromhex("AAAAAA9669")
    return bytes(blob)


ZHANG_SAN = IdCard(
    card_type="resident",
    name="张三",
    gender="male",
    nation="汉",
    birth=date(1990, 3, 7),
    address="广东省韶关市武江区示例路1号",
    id_number="440203199003070016",
    authority="韶关市公安局武江分局",
    valid_from=date(2015, 5, 1),
    valid_to=date(2035, 5, 1),
    photo=_photo(1),
)
LI_SI = IdCard(
    card_type="resident",
    name="李四",
    gender="male",
    nation="蒙古",
    birth=date(1985, 7, 21),
    address="北京市西城区演示胡同23号院4单元501室",
    id_number="110105198507210031",
    authority="北京市公安局朝阳分局",
    valid_from=date(2010, 1, 15),
    valid_to=date(2030, 1, 15),
    photo=_photo(2),
)
OUYANG_NANA = IdCard(
    card_type="resident",
    name="欧阳娜娜",
    gender="female",
    nation="满",
    birth=date(2000, 6, 16),
    address="辽宁省沈阳市和平区样例街88号",
    id_number="210102200006160026",
    authority="沈阳市公安局和平分局",
    valid_from=date(2018, 8, 1),
    valid_to=date(2028, 8, 1),
    photo=_photo(3),
)
WANG_WU_ELDERLY = IdCard(
    card_type="resident",
    name="王五",
    gender="male",
    nation="回",
    birth=date(1948, 11, 2),
    address="广东省韶关市武江区测试巷7号",
    id_number="440203194811020057",
    authority="韶关市公安局武江分局",
    valid_from=date(2006, 3, 10),
    valid_to=None,  # 长期: people over 46 get a long-term card
    photo=_photo(4),
)
HK_PERMIT = IdCard(
    card_type="hk_mo_tw",
    name="陈美玲",
    gender="female",
    birth=date(1992, 1, 15),
    address="广东省深圳市福田区示范大道100号",
    id_number="810000199201150024",
    authority="深圳市公安局",
    valid_from=date(2021, 9, 1),
    valid_to=date(2026, 9, 1),
    permit_number="H00000001",
    issue_count="01",
    photo=_photo(5),
)
FOREIGN_2017 = IdCard(
    card_type="foreign_2017",
    name="约翰",
    english_name="SAMPLE, JOHN",
    gender="male",
    birth=date(1980, 1, 1),
    id_number="USA440180010100",
    country="USA",
    valid_from=date(2017, 6, 1),
    valid_to=date(2027, 6, 1),
    photo=_photo(6),
)
FOREIGN_2023 = IdCard(
    card_type="foreign_2023",
    name="艾丽卡",
    english_name="MUSTERFRAU, ERIKA",
    gender="female",
    birth=date(1985, 4, 12),
    id_number="944276198504120021",
    country="DEU",
    issue_count="00",
    valid_from=date(2024, 2, 1),
    valid_to=date(2034, 2, 1),
    photo=_photo(7),
)

SAMPLES: dict[str, IdCard] = {
    "zhangsan": ZHANG_SAN,
    "lisi": LI_SI,
    "ouyang": OUYANG_NANA,
    "wangwu": WANG_WU_ELDERLY,
    "hk": HK_PERMIT,
    "foreign2017": FOREIGN_2017,
    "foreign2023": FOREIGN_2023,
}
SAMPLE_CARDS: tuple[IdCard, ...] = tuple(SAMPLES.values())
