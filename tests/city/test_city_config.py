"""The optional [city] section: validated, and exported to TOML and back (TOML has no null)."""

from __future__ import annotations

import tomllib

import pytest
from queue_server.admin.hall_config import to_toml
from queue_server.base.config import HallConfigError, load_config, parse_config


def test_a_city_section_exports_and_loads_back_the_same():
    base = load_config()
    data = base.model_dump(mode="json")
    data["city"] = {"broker": "mqtts://broker.example:8883", "hall_id": "wujiang", "lat": 24.79}
    cfg = parse_config(data)
    assert cfg.city is not None and cfg.city.lon is None
    assert parse_config(tomllib.loads(to_toml(cfg))) == cfg
    assert parse_config(tomllib.loads(to_toml(base))).city is None


@pytest.mark.parametrize(
    "city, needle",
    [
        ({"broker": "http://x", "hall_id": "a"}, "city.broker"),
        ({"broker": "mqtt://x:1883", "hall_id": "A/#"}, "city.hall_id"),
        ({"broker": "mqtt://x:1883", "hall_id": "a", "lat": 91}, "city.lat"),
        ({"broker": "mqtt://x:1883", "hall_id": "a", "colour": 1}, "city.colour: unknown key"),
    ],
)
def test_a_bad_city_section_names_the_key(city, needle):
    data = load_config().model_dump(mode="json")
    data["city"] = city
    with pytest.raises(HallConfigError) as err:
        parse_config(data, "hall.toml")
    assert needle in str(err.value)
