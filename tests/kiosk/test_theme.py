"""Contrast and size rules of the kiosk theme (适老化, WCAG 2.2)."""

from __future__ import annotations

import pytest

from kiosk.core.theme import COLORS, TEXT_PAIRS, contrast, metrics


@pytest.mark.parametrize(("fg", "bg"), TEXT_PAIRS)
def test_every_text_colour_has_contrast_4_5(fg: str, bg: str) -> None:
    assert contrast(COLORS[fg], COLORS[bg]) >= 4.5


def test_contrast_reference_values() -> None:
    assert contrast("#000000", "#FFFFFF") == pytest.approx(21)
    assert contrast("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize("size", [(1080, 1920), (1920, 1080)])
def test_elder_mode_sizes(size: tuple[int, int]) -> None:
    m = metrics(*size, elder=True)
    assert m.body >= 30 * m.dp and m.target >= 60 * m.dp and m.line_spacing >= 1.3
    normal = metrics(*size, elder=False)
    assert normal.target >= 44 * normal.dp
    assert m.body > normal.body
