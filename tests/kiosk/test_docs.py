"""docs/KIOSK.md documents every kiosk setting (settings are data)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.core.settings import KioskSettings, settings_help

DOC = Path(__file__).resolve().parents[2] / "docs" / "KIOSK.md"


def test_every_setting_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for name, help_text in settings_help().items():
        assert f"| `{name}` | {help_text} |" in text, name


def test_idle_warning_must_leave_20_seconds() -> None:
    with pytest.raises(ValueError):
        KioskSettings(idle_warning_s=10)
