"""Hypothesis on the hall TOML parser: any document gives a config or HallConfigError."""

from __future__ import annotations

import tomllib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from queue_server.base.config import DEMO_CONFIG, HallConfigError, load_config, parse_config

DEMO = DEMO_CONFIG.read_text(encoding="utf-8")
SETTINGS = settings(
    max_examples=100, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.sampled_from(["Asia", "Asia/Shanghai", "", "08:30-12:00", "A", "ordinary", "../etc"]),
)
keys = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        ["hall", "routing", "security", "services", "windows", "code", "name", "prefix",
         "timezone", "classes", "hours", "number_range", "no", "status", "policy", "rate"]
    ),
)  # fmt: skip
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=5)),
    max_leaves=25,
)


def _must_parse_or_refuse(data: dict) -> None:
    try:
        parse_config(data, "fuzz")
    except HallConfigError:
        pass


@SETTINGS
@given(st.dictionaries(keys, values, max_size=6))
def test_random_documents(data):
    _must_parse_or_refuse(data)


@SETTINGS
@given(
    section=st.sampled_from(["hall", "routing", "security"]),
    key=keys,
    value=values,
)
def test_demo_with_one_field_replaced(section, key, value):
    data = tomllib.loads(DEMO)
    data.setdefault(section, {})[key] = value
    _must_parse_or_refuse(data)


@SETTINGS
@given(st.data())
def test_demo_service_or_window_mutated(data):
    doc = tomllib.loads(DEMO)
    kind = data.draw(st.sampled_from(["services", "windows"]))
    i = data.draw(st.integers(0, len(doc[kind]) - 1))
    doc[kind][i][data.draw(keys)] = data.draw(values)
    _must_parse_or_refuse(doc)


@SETTINGS
@given(st.data())
def test_mutated_toml_text(tmp_path_factory, data):
    text = DEMO.encode()
    for _ in range(data.draw(st.integers(1, 8))):
        pos = data.draw(st.integers(0, len(text) - 1))
        op = data.draw(st.sampled_from(["flip", "delete", "insert"]))
        byte = bytes([data.draw(st.integers(0, 255))])
        if op == "flip":
            text = text[:pos] + byte + text[pos + 1 :]
        elif op == "delete":
            text = text[:pos] + text[pos + 1 :]
        else:
            text = text[:pos] + byte + text[pos:]
    path = tmp_path_factory.mktemp("toml") / "hall.toml"
    path.write_bytes(text)
    try:
        load_config(path)
    except HallConfigError:
        pass


@pytest.mark.parametrize(
    "text",
    [
        '[hall]\ntimezone = "Asia"\n',  # a directory in the zone database: was an OSError
        "x = " + "[" * 5000 + "]" * 5000,  # nesting deep enough to exhaust the recursion limit
        "\udcff",
        "[[services]]\ncode = 1\n",
    ],
)
def test_known_nasty_documents(tmp_path, text):
    path = tmp_path / "hall.toml"
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    with pytest.raises(HallConfigError):
        load_config(path)


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("hall", "name", "大厅\x1b@"),  # ESC @ would reset the ticket printer
        ("hall", "notices", ["请排队\x1dVB\x03"]),  # GS V: cut the paper
        ("hall", "name", "大厅\x85"),  # C1 control
        ("hall", "name", "大厅\ud800"),  # lone surrogate (from JSON)
    ],
)
def test_control_characters_in_config_text_are_refused(section, key, value):
    data = tomllib.loads(DEMO)
    data[section][key] = value
    with pytest.raises(HallConfigError, match="control character"):
        parse_config(data, "test")


@SETTINGS
@given(st.data())
def test_control_characters_anywhere_in_service_or_window_text_are_refused(data):
    doc = tomllib.loads(DEMO)
    kind = data.draw(st.sampled_from(["services", "windows"]))
    i = data.draw(st.integers(0, len(doc[kind]) - 1))
    key = "guide" if kind == "services" else "name"
    bad = data.draw(
        st.characters(max_codepoint=0x9F).filter(
            lambda c: c not in "\t\n" and (c < " " or c >= "\x7f")
        )
    )
    doc[kind][i][key] = "办理" + bad
    with pytest.raises(HallConfigError, match="control character"):
        parse_config(doc, "fuzz")


def test_line_breaks_in_a_guide_are_fine():
    doc = tomllib.loads(DEMO)
    doc["services"][0]["guide"] = "第一行\n第二行\t附注"
    parse_config(doc, "test")


def test_a_notice_cannot_contradict_the_elderly_age():
    doc = tomllib.loads(DEMO)
    doc["hall"]["notices"] = ["70周岁以上老年人请走绿色通道"]
    with pytest.raises(HallConfigError, match="elderly_age"):
        parse_config(doc, "test")
    doc["routing"]["elderly_age"] = 70
    parse_config(doc, "test")


def test_demo_notice_states_the_configured_elderly_age():
    cfg = load_config()
    age = cfg.routing.elderly_age
    assert any(f"{age}周岁以上老年人" in n for n in cfg.notices())
    assert not any("{elderly_age}" in n for n in cfg.notices())
    changed = parse_config(
        cfg.model_dump(mode="json") | {"routing": cfg.routing.model_dump() | {"elderly_age": 65}}
    )
    assert any("65周岁以上老年人" in n for n in changed.notices())


def test_admin_cannot_save_printer_commands_into_the_hall_name(api, hall):
    h = api.who("admin")
    cfg = api.get("/api/v1/admin/config", headers=h).json()["config"]
    cfg["hall"]["name"] = "大厅\x1b@\x1dV"
    r = api.put("/api/v1/admin/config", json={"config": cfg}, headers=h)
    assert r.status_code == 422 and "control character" in r.json()["error"]["message"]
    assert hall.config.hall.name == "武江区政务服务中心"
    toml = DEMO.replace('name = "武江区政务服务中心"', 'name = "大厅\\u001b@"')
    assert toml != DEMO
    r = api.post("/api/v1/admin/config/import", json={"toml": toml}, headers=h)
    assert r.status_code == 422 and "control character" in r.json()["error"]["message"]
