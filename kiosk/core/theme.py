"""Colours and sizes of the kiosk, as data: the Qt layer paints them, tests check the rules.

Sizes are in dp, converted with one dp per `short side / 720` pixels (a 1080-pixel-wide
portrait screen has 1.5 px per dp, as an xhdpi phone). Elder mode (长辈模式) follows the
适老化 rules in docs/DOMAIN.md: main text ≥ 30 dp, touch targets ≥ 60×60 dp, line spacing ≥ 1.3.
Every text colour is checked against its background for WCAG contrast ≥ 4.5:1.
"""

from __future__ import annotations

from dataclasses import dataclass

COLORS = {
    "bg": "#FFFFFF",
    "text": "#1A1A1A",
    "muted": "#4A4A4A",
    "brand": "#0B4F94",  # header and primary buttons, white text on it
    "brand_text": "#FFFFFF",
    "tile_bg": "#EEF4FB",
    "tile_border": "#0B4F94",
    "tile_text": "#0A2540",
    "selected_bg": "#0B4F94",
    "selected_text": "#FFFFFF",
    "disabled_bg": "#E6E6E6",
    "disabled_text": "#505050",
    "notice_bg": "#FFF1C2",
    "notice_text": "#4A2E00",
    "warn_bg": "#1A1A1A",
    "warn_text": "#FFD84D",
    "number": "#B3261E",  # the ticket number, dark red on white
    "elder_bg": "#FFD84D",  # 长辈模式 when off: amber, unlike every other control
    "elder_border": "#8A5A00",
    "elder_text": "#1A1A1A",
}

# (foreground, background) pairs the UI actually paints.
TEXT_PAIRS = [
    ("text", "bg"),
    ("muted", "bg"),
    ("brand_text", "brand"),
    ("tile_text", "tile_bg"),
    ("muted", "tile_bg"),
    ("selected_text", "selected_bg"),
    ("disabled_text", "disabled_bg"),
    ("notice_text", "notice_bg"),
    ("warn_text", "warn_bg"),
    ("number", "bg"),
    ("brand", "bg"),
    ("brand", "tile_bg"),
    ("elder_text", "elder_bg"),
]


def _linear(c: int) -> float:
    s = c / 255
    return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4


def luminance(hex_color: str) -> float:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * _linear(r) + 0.7152 * _linear(g) + 0.0722 * _linear(b)


def contrast(fg: str, bg: str) -> float:
    """WCAG 2.x contrast ratio between two colours."""
    a, b = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (a + 0.05) / (b + 0.05)


@dataclass(frozen=True)
class Metrics:
    """Pixel sizes for one screen size and mode."""

    dp: float
    body: int
    title: int
    tile_title: int
    big_number: int
    target: int  # minimum height and width of anything tappable
    gap: int
    columns: int
    line_spacing: float = 1.4

    @property
    def alert(self) -> int:
        """The size of a warning banner (printer out of paper): larger than body text."""
        return max(self.body, min(self.tile_title, round(self.body * 1.2)))

    def px(self, dp: float) -> int:
        return round(dp * self.dp)


def metrics(width: int, height: int, elder: bool) -> Metrics:
    dp = min(width, height) / 720
    portrait = height >= width
    if elder:
        return Metrics(
            dp=dp,
            body=round(32 * dp),
            title=round(42 * dp),
            tile_title=round(40 * dp),
            big_number=round(150 * dp),
            target=round(80 * dp),
            gap=round(16 * dp),
            columns=2 if portrait else 3,
            line_spacing=1.5,
        )
    return Metrics(
        dp=dp,
        body=round(22 * dp),
        title=round(32 * dp),
        tile_title=round(26 * dp),
        big_number=round(130 * dp),
        target=round(64 * dp),
        gap=round(12 * dp),
        columns=2 if portrait else 5,
    )
