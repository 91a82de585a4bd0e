"""Where a window is (智能引导): "3楼B区12号窗口" on the kiosk's ticket, the printed ticket and
the hall display, once the hall file gives the window a floor and a zone."""

from __future__ import annotations

from collections.abc import Iterable


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
    """The same in English: `Window 12 (Floor 3, Zone B)`, or `Window 12`."""
    where = _place_en(floor.strip(), zone.strip())
    return f"Window {no} ({where})" if where else f"Window {no}"


def _runs(nos: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for no in sorted(set(nos)):
        if runs and no == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], no)
        else:
            runs.append((no, no))
    return runs


def _place_en(floor: str, zone: str) -> str:
    zone = zone.removesuffix("区")
    floor = floor.removesuffix("楼").removesuffix("层")
    return ", ".join(
        p for p in (f"Floor {floor}" if floor else "", f"Zone {zone}" if zone else "") if p
    )


def service_location(windows: Iterable[tuple[int, str, str]], lang: str = "zh") -> str:
    """Where a service is handled, from its windows' (no, floor, zone): `1楼B区11–13号窗口` when
    they share one place; several places are named without window numbers (`1楼B区、3楼A区`),
    short enough for a ticket. "" when none of the windows has a location configured."""
    places: dict[tuple[str, str], list[int]] = {}
    for no, floor, zone in windows:
        places.setdefault((floor.strip(), zone.strip()), []).append(no)
    if not any(floor or zone for floor, zone in places):
        return ""
    if len(places) > 1:
        if lang == "en":
            return "; ".join(_place_en(f, z) or "other windows" for f, z in places)
        return "、".join(f"{floor_text(f)}{zone_text(z)}" or "其他窗口" for f, z in places)
    (floor, zone), nos = next(iter(places.items()))
    sep = ", " if lang == "en" else "、"
    runs = sep.join(f"{a}–{b}" if a != b else str(a) for a, b in _runs(nos))
    if lang == "en":
        return f"windows {runs} ({_place_en(floor, zone)})"
    return f"{floor_text(floor)}{zone_text(zone)}{runs}号窗口"
