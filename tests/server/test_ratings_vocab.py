"""The rating vocabulary in halldomain: levels, threshold, reason codes."""

from __future__ import annotations

from halldomain import ratings


def test_levels_and_threshold() -> None:
    assert [ratings.level_label(n) for n in (5, 4, 3, 2, 1)] == [
        "非常满意", "满意", "基本满意", "不满意", "非常不满意",
    ]  # fmt: skip
    assert ratings.level_label(1, "en") == "Very unsatisfied"
    assert [n for n in range(1, 6) if ratings.needs_reason(n)] == [1, 2]


def test_default_codes_are_unique_and_cover_the_old_evaluator_list() -> None:
    codes = [r.code for r in ratings.DEFAULT_REASONS]
    assert len(codes) == len(set(codes))
    old = ["服务态度不好", "办事效率低", "业务不熟练", "一次性告知不清", "等候时间过长",
           "材料要求繁琐", "办事流程不清楚", "环境设施不便", "其他"]  # fmt: skip
    assert [ratings.code_for_label(s, ratings.DEFAULT_REASONS) for s in old] == [
        "attitude", "slow", "unskilled", "unclear_notice", "long_wait",
        "burdensome_materials", "unclear_process", "facilities", "other",
    ]  # fmt: skip
    assert ratings.code_for_label("态度太差了", ratings.DEFAULT_REASONS) is None


def test_unknown_reasons_and_vocabulary_shape() -> None:
    assert ratings.unknown_reasons(["slow", "nope", "other"], ratings.DEFAULT_REASONS) == ["nope"]
    v = ratings.vocabulary(ratings.DEFAULT_REASONS)
    assert v["reason_threshold"] == 2
    assert v["levels"][0] == {"level": 5, "label": "非常满意", "label_en": "Very satisfied"}
    kiosk = [r["code"] for r in v["reasons"] if "kiosk" in r["channels"]]  # type: ignore[attr-defined]
    assert "kiosk_print_failed" in kiosk and "attitude" not in kiosk
