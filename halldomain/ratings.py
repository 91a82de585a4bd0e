"""The 好差评 vocabulary: five levels, the 差评 threshold and the default reason list.

One place for what the server checks, the kiosk, the evaluator page and the keypad bridge show
(they read it from `GET /hall`, the server builds it from here and the hall's configuration).
Levels after GB/T 39734-2020: 5 非常满意 … 1 非常不满意; a rating at or below
`REASON_THRESHOLD` (a 差评) needs at least one reason. Reasons are stored as codes only.

The default reason list is the one the evaluator page has shown (service reasons, each
counted against one offline indicator 服务效率/服务水平/服务态度 of GB/T 39734) plus the kiosk's
reasons about the terminal itself. It is NOT the national list of GB/T 39734-2020 附录A
(差评评价内容): a search of the public reference text found the annex named but not its list
(docs/DOMAIN.md says what was found). A province's list replaces it through the hall file
(`[ratings] reasons`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

LEVELS: dict[int, tuple[str, str]] = {
    5: ("非常满意", "Very satisfied"),
    4: ("满意", "Satisfied"),
    3: ("基本满意", "Fairly satisfied"),
    2: ("不满意", "Unsatisfied"),
    1: ("非常不满意", "Very unsatisfied"),
}
REASON_THRESHOLD = 2  # a level at or below this is a 差评 and needs a reason
OTHER = "other"  # the catch-all reason ("其他")
REASON_PREFIX = "原因："  # an old free-text reason kept in the comment


# The offline indicators of GB/T 39734-2020 (线下评价: 整体满意度, 服务效率, 服务水平, 服务态度).
# Each service reason counts against at most one of the last three; the reports compute them.
INDICATORS: dict[str, tuple[str, str]] = {
    "efficiency": ("服务效率", "Efficiency"),
    "competence": ("服务水平", "Competence"),
    "attitude": ("服务态度", "Attitude"),
}


@dataclass(frozen=True)
class Reason:
    code: str
    label: str
    label_en: str
    channels: tuple[str, ...] = ("window", "qr")  # where it is offered
    indicator: str = ""  # the offline indicator it counts against ("" none: facilities, other)


DEFAULT_REASONS: tuple[Reason, ...] = (
    Reason("attitude", "服务态度不好", "Unfriendly service", indicator="attitude"),
    Reason("slow", "办事效率低", "Slow service", indicator="efficiency"),
    Reason(
        "unskilled", "业务不熟练", "Staff not familiar with the business", indicator="competence"
    ),
    Reason(
        "unclear_notice", "一次性告知不清", "Requirements not told at once", indicator="competence"
    ),
    Reason("long_wait", "等候时间过长", "Waited too long", indicator="efficiency"),
    Reason(
        "burdensome_materials", "材料要求繁琐", "Too many documents asked", indicator="efficiency"
    ),
    Reason("unclear_process", "办事流程不清楚", "Unclear procedure", indicator="competence"),
    Reason("facilities", "环境设施不便", "Inconvenient facilities"),
    Reason("kiosk_hard_to_use", "操作复杂，不会用", "Hard to use", ("kiosk",)),
    Reason("kiosk_slow", "反应慢、等待久", "Slow", ("kiosk",)),
    Reason("kiosk_print_failed", "号票打印不出来", "Ticket did not print", ("kiosk",)),
    Reason("kiosk_card_failed", "刷身份证不成功", "ID card not read", ("kiosk",)),
    Reason("kiosk_unclear", "文字看不清、听不清", "Hard to read or hear", ("kiosk",)),
    Reason("kiosk_wrong_info", "信息不准确", "Wrong information", ("kiosk",)),
    Reason(OTHER, "其他", "Other", ("window", "qr", "kiosk")),
)


def needs_reason(level: int) -> bool:
    """Whether a rating at `level` is a 差评 that must carry at least one reason."""
    return level <= REASON_THRESHOLD


def level_label(level: int, lang: str = "zh") -> str:
    zh, en = LEVELS[level]
    return en if lang == "en" else zh


def unknown_reasons(codes: Iterable[str], reasons: Iterable[Reason]) -> list[str]:
    """The codes in `codes` that are not in the list `reasons`, in order."""
    known = {r.code for r in reasons}
    return [c for c in codes if c not in known]


def code_for_label(text: str, reasons: Iterable[Reason]) -> str | None:
    """The code of the reason whose Chinese label or code is `text` (old rows), else None."""
    text = text.strip()
    for r in reasons:
        if text in (r.code, r.label):
            return r.code
    return None


def vocabulary(reasons: Iterable[Reason]) -> dict[str, object]:
    """The rating vocabulary as the pages read it (part of `GET /hall`)."""
    return {
        "levels": [{"level": n, "label": zh, "label_en": en} for n, (zh, en) in LEVELS.items()],
        "reason_threshold": REASON_THRESHOLD,
        "reasons": [
            {
                "code": r.code,
                "label": r.label,
                "label_en": r.label_en,
                "channels": list(r.channels),
                "indicator": r.indicator,
            }
            for r in reasons
        ],
    }
