"""事项实施编码: the code of a government service item as a hall implements it.

GB/T 39554.1-2020 (全国一体化政务服务平台 政务服务事项基本目录及实施清单 第1部分：编码要求)
builds the implementation code from the implementing body's 18-character 统一社会信用代码
(GB 32100-2015 alphabet: digits and capitals without I, O, S, V, Z) followed by the item's
basic code (事项类型, 主项, 子项) and, where a province lists them, the 业务办理项 digits; e.g.
`11440200MB2C92640Q4442117047000`. The standard's text was not at hand, so this accepts that
common shape (18 + 6…22 capitals or digits, 24–40 in all) and does not verify the credit
code's check character (published examples do not all carry a valid one).
"""

from __future__ import annotations

import re

PATTERN = r"^[0-9A-HJ-NPQRTUWXY]{18}[0-9A-Z]{6,22}$"
_CODE = re.compile(PATTERN)


def normalise(code: str) -> str:
    """The code as stored: surrounding blanks removed, capitals."""
    return code.strip().upper()


def is_item_code(code: str) -> bool:
    """Whether `code` has the shape of a 事项实施编码 (after `normalise`)."""
    return bool(_CODE.match(code))


def problem(code: str) -> str | None:
    """A citizen-readable Chinese reason why `code` is not a 事项实施编码, else None."""
    if is_item_code(code):
        return None
    return (
        f"事项实施编码“{code[:48]}”格式不正确：应为实施主体的18位统一社会信用代码加事项基本编码"
        "（共24至40位大写字母或数字）"
    )
