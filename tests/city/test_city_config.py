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


def test_the_broker_password_is_write_only_in_exports_and_kept_on_import():
    """The hall's broker password is a secret like the upload app secret: exported and shown as
    the mask, and a file sent back with the mask keeps the live password."""
    from queue_server.admin.hall_config import MASK, config_dict, keep_secrets

    data = load_config().model_dump(mode="json")
    data["city"] = {"broker": "mqtt://x:1883", "hall_id": "a", "password": "s3cret-pw"}
    cfg = parse_config(data)
    text = to_toml(cfg)
    assert "s3cret-pw" not in text and "s3cret-pw" not in str(config_dict(cfg))
    back = parse_config(tomllib.loads(text))
    assert back.city is not None and back.city.password == MASK
    assert keep_secrets(cfg, back) == cfg
    no_city = load_config()
    assert keep_secrets(no_city, no_city) == no_city  # no [city] section: nothing to keep
