"""The hall TOML: the demo hall is valid, mistakes are clear errors, every key is documented."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from queue_server.base.config import DEMO_CONFIG, HallConfigError, load_config, parse_config
from queue_server.base.config_docs import render

ROOT = Path(__file__).resolve().parents[2]


def demo() -> dict:
    return tomllib.loads(DEMO_CONFIG.read_text(encoding="utf-8"))


def test_demo_hall_models_a_district_hall():
    cfg = load_config()
    assert len(cfg.services) >= 8 and len(cfg.windows) >= 20
    kinds = {w.kind for w in cfg.windows}
    assert {"comprehensive", "dedicated"} <= kinds
    assert any(len(w.services) > 1 for w in cfg.windows)
    assert any(s.real_name for s in cfg.services) and any(not s.real_name for s in cfg.services)
    assert all(s.daily_quota > 0 and s.hours for s in cfg.services)
    assert all(w.status == "open" for w in cfg.windows)


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda d: d["hall"].update(colour="red"), "hall.colour: unknown key"),
        (lambda d: d["hall"].update(timezone="Mars/Base"), "unknown time zone"),
        (lambda d: d["services"][0].update(prefix="a1"), "services.0.prefix"),
        (lambda d: d["services"][0].update(hours=["17:00-09:00"]), "opening hours"),
        (
            lambda d: d["services"][1].update(prefix=d["services"][0]["prefix"]),
            "share a ticket prefix",
        ),
        (lambda d: d["windows"][0]["services"].update(XX=1), "unknown service"),
        (lambda d: d["windows"][0].update(no=d["windows"][1]["no"]), "duplicate window number"),
        (lambda d: d["routing"]["classes"].pop("ordinary"), "must define `ordinary`"),
        (lambda d: d["windows"][0]["services"].update(HJ=-1), "windows.0.services.HJ"),
        (
            lambda d: d.update(ratings={"reasons": [{"code": "a", "label": "甲"}] * 2}),
            "duplicate reason code",
        ),
        (
            lambda d: d.update(ratings={"reasons": [{"code": "态度", "label": "态度"}]}),
            "ratings.reasons.0.code",
        ),
    ],
)
def test_mistakes_name_the_key(mutate, needle):
    data = demo()
    mutate(data)
    with pytest.raises(HallConfigError) as err:
        parse_config(data, "hall.toml")
    assert needle in str(err.value)
    assert str(err.value).startswith("hall.toml: invalid hall configuration")


def test_unreadable_files_are_clear_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[hall\nname = 1", encoding="utf-8")
    with pytest.raises(HallConfigError, match="not valid TOML"):
        load_config(bad)
    with pytest.raises(HallConfigError, match="no such file"):
        load_config(tmp_path / "missing.toml")


def test_every_key_is_documented_and_the_docs_are_current():
    text = render()
    assert "None" not in text
    for line in text.splitlines():
        if line.startswith("| `"):
            assert line.rstrip().split("|")[-2].strip(), f"undocumented: {line}"
    assert (ROOT / "docs" / "CONFIG.md").read_text(encoding="utf-8") == text, (
        "docs/CONFIG.md is stale: run `hall config docs`"
    )


def test_a_hall_replaces_the_reason_list():
    data = demo()
    data["ratings"] = {"reasons": [{"code": "r01", "label": "服务态度差", "label_en": "Rude"}]}
    cfg = parse_config(data, "hall.toml")
    (reason,) = cfg.ratings.domain()
    assert (reason.code, reason.label, reason.channels) == ("r01", "服务态度差", ("window", "qr"))
    assert [r.code for r in load_config().ratings.domain()][-1] == "other"  # the default list
