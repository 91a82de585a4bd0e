"""docs/ARCHITECTURE.md names every Python module of the product, in its package's section."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "ARCHITECTURE.md"
PACKAGES = ("queue_server", "kiosk", "drivers", "halldomain", "hallcli")


def section(text: str, package: str) -> str:
    """The text under the heading that names `package/`, up to the next heading of its level."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"(#+) ", line)
        if m and f"`{package}/`" in line:
            level = len(m.group(1))
            body = []
            for nxt in lines[i + 1 :]:
                h = re.match(r"(#+) ", nxt)
                if h and len(h.group(1)) <= level:
                    break
                body.append(nxt)
            return "\n".join(body)
    raise AssertionError(f"docs/ARCHITECTURE.md has no section headed `{package}/`")


def module_names(package: str) -> list[str]:
    """Each module as the map names it: `sub/name.py`, and a subpackage as `sub/`."""
    names = []
    base = ROOT / package
    for path in sorted(base.rglob("*.py")):
        rel = path.relative_to(base)
        if rel.name == "__init__.py":
            if rel.parent != Path("."):
                names.append(f"{rel.parent.as_posix()}/")
        else:
            names.append(rel.as_posix())
    return names


def missing(text: str, package: str) -> list[str]:
    body = section(text, package)
    return [n for n in module_names(package) if f"`{n}`" not in body]


@pytest.mark.parametrize("package", PACKAGES)
def test_every_module_is_in_the_map(package: str) -> None:
    assert missing(DOC.read_text(encoding="utf-8"), package) == []


def test_a_module_left_out_is_caught() -> None:
    text = DOC.read_text(encoding="utf-8").replace("`core/leases.py`", "leases")
    assert missing(text, "queue_server") == ["core/leases.py"]


def stale(text: str, package: str) -> list[str]:
    """Modules or folders the section names that are not in the package (nor the repository)."""
    named = re.findall(r"`([\w./-]+(?:\.py|/))`", section(text, package))
    return [n for n in named if not ((ROOT / package / n).exists() or (ROOT / n).exists())]


@pytest.mark.parametrize("package", PACKAGES)
def test_the_map_names_no_module_that_is_gone(package: str) -> None:
    assert stale(DOC.read_text(encoding="utf-8"), package) == []


def test_a_module_that_is_gone_is_caught() -> None:
    text = DOC.read_text(encoding="utf-8").replace(
        "`core/leases.py`", "`core/leases.py`, `core/estimator.py`"
    )
    assert stale(text, "queue_server") == ["core/estimator.py"]
