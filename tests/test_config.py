import pytest

from pos.config import Config, ConfigError, load_config, parse_config


def test_defaults_follow_design() -> None:
    config = Config()
    assert config.brand.id == "1000"
    assert config.venue.timezone == "Europe/Berlin"
    assert config.venue.day_starts_at == "00:00"
    assert config.printer.kind == "dummy"
    assert config.printer.paper_mm == 80
    assert config.database.url.startswith("sqlite:///")


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"printer": {"paper_mm": "wide"}}, "[printer] paper_mm"),
        ({"printer": {"kind": "laser"}}, "[printer] kind"),
        ({"venue": {"timezone": "Mars/Olympus"}}, "[venue] timezone"),
        ({"venue": {"day_starts_at": "5am"}}, "[venue] day_starts_at"),
        ({"brand": {"id": 1000}}, "[brand] id"),
        ({"brand": {"id": "10a0"}}, "[brand] id"),
        ({"brand": {"secret": "short"}}, "[brand] secret"),
        ({"printer": {"port": 70000}}, "[printer] port"),
        ({"venue": {"tiemzone": "UTC"}}, "[venue] tiemzone"),
        ({"venue": "Berlin"}, "[venue]"),
    ],
)
def test_bad_values_are_one_sentence_naming_the_key(data: dict, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(data)
    message = str(info.value)
    assert key in message
    assert message.count("\n") == 0 and message.endswith(".")


def test_missing_secret_is_named_when_needed() -> None:
    with pytest.raises(ConfigError, match=r"\[brand\] secret"):
        Config().brand_secret()


def test_file_problems(tmp_path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[venue\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(broken)


def test_cli_refuses_wrong_type_in_one_sentence(tmp_path, pos_sqlite) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[printer]\npaper_mm = "wide"\n', encoding="utf-8")
    pos_sqlite.env["POS_CONFIG"] = str(bad)
    result = pos_sqlite("article", "list")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert "[printer] paper_mm" in result.stderr


def test_example_config_is_valid_and_complete() -> None:
    example = load_config("config.example.toml")
    assert example == Config(database=example.database)
