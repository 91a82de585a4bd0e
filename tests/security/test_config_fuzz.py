"""Hypothesis on the hall TOML parser: any document gives a config or HallConfigError."""

from __future__ import annotations

import tomllib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from queue_server.config import DEMO_CONFIG, HallConfigError, load_config, parse_config

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
