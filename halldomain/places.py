"""Where a window is (智能引导): "3楼B区12号窗口" on the kiosk's ticket, the printed ticket and
the hall display, once the hall file gives the window a floor and a zone."""

from __future__ import annotations


def floor_text(floor: str) -> str:
    """`3` → `3楼`; a floor already worded (`负一楼`, `B1层`) stays as it is."""
    floor = floor.strip()
    if not floor or floor[-1] in "楼层":
        return floor
    return f"{floor}楼"


def zone_text(zone: str) -> str:
    """`B` → `B区`; a zone already worded (`东区`, `B区`) stays as it is."""
    zone = zone.strip()
    if not zone or zone.endswith("区"):
        return zone
    return f"{zone}区"


def window_guide(no: int, floor: str = "", zone: str = "") -> str:
    """The way to a window: `3楼B区12号窗口`, or just `12号窗口` without a location."""
    return f"{floor_text(floor)}{zone_text(zone)}{no}号窗口"


def window_guide_en(no: int, floor: str = "", zone: str = "") -> str:
    """The same in English: `Window 12, Zone B, Floor 3`."""
    parts = [f"Window {no}"]
    zone = zone.strip().removesuffix("区")
    floor = floor.strip().removesuffix("楼").removesuffix("层")
    if zone:
        parts.append(f"Zone {zone}")
    if floor:
        parts.append(f"Floor {floor}")
    return ", ".join(parts)
