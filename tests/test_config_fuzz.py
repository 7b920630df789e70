"""Fuzzed configs: any input gives a Config or one ConfigError sentence, never another exception."""

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pos.config import Config, ConfigError, load_config, parse_config

SECTIONS = ["venue", "brand", "database", "printer", "scanner", "smtp", "cart_links", "terminal", "other"]
KEYS = [
    "timezone",
    "day_starts_at",
    "currency",
    "language",
    "id",
    "secret",
    "url",
    "kind",
    "paper_mm",
    "port",
    "host",
    "timeout",
    "burst_ms",
    "security",
    "name",
    "gate",
    "zzz",
]
CASES = int(os.environ.get("POS_FUZZ_CASES", "300"))

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True),
    st.text(max_size=40),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
configs = st.dictionaries(
    st.sampled_from(SECTIONS) | st.text(max_size=8),
    st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), scalars, max_size=5) | scalars,
    max_size=5,
)


def _one_sentence(error: ConfigError) -> None:
    message = str(error)
    assert message and "\n" not in message and "Traceback" not in message


@settings(max_examples=CASES, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(configs)
def test_random_config_data(data: dict) -> None:
    try:
        assert isinstance(parse_config(data), Config)
    except ConfigError as error:
        _one_sentence(error)


@settings(max_examples=CASES, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_random_config_files(tmp_path, raw: bytes) -> None:
    path = tmp_path / "fuzz.toml"
    path.write_bytes(raw)
    try:
        load_config(path)
    except ConfigError as error:
        _one_sentence(error)


@pytest.mark.slow
@settings(max_examples=10_000, deadline=None)
@given(configs)
def test_random_config_data_long(data: dict) -> None:
    try:
        parse_config(data)
    except ConfigError as error:
        _one_sentence(error)
