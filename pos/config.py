"""Configuration: one TOML file, validated up front so a bad key is one sentence, not a traceback."""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# pos uses no pydantic plugins; without this pydantic reads the entry points of every installed package
# before its first model (10-20 ms of every start). An explicit setting in the environment wins.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from pydantic import (  # noqa: E402 - after the plugin switch above
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from pos.errors import PosError

MAX_CONFIG_BYTES = 1 << 20  # a config is a few KiB; anything larger (or not a file) is refused unread


def default_data_dir() -> Path:
    """Where the default SQLite database lives (XDG data dir, e.g. ~/.local/share/pos)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("pos", appauthor=False))


def default_database_url() -> str:
    return f"sqlite:///{default_data_dir() / 'pos.db'}"


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        """TOML can spell a NUL (\\u0000); no database, printer or mail server takes one in a name."""
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain a NUL character")
        return value


class Venue(Section):
    name: str = "pos box office"
    timezone: str = "Europe/Berlin"
    day_starts_at: str = "00:00"
    currency: str = "EUR"
    language: Literal["de", "en"] = "de"
    # What a German receipt names besides the venue: the address, and the tax number or the VAT id.
    address: str = ""
    tax_number: str = ""
    vat_id: str = ""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("day_starts_at")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        match = re.fullmatch(r"([01]\d|2[0-3]):([0-5]\d)", value)
        if not match:
            raise ValueError(f'expected a time HH:MM such as "05:00", got {value!r}')
        return value

    @field_validator("currency")
    @classmethod
    def _currency_code(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Z]{3}", value):
            raise ValueError(f'expected a three-letter ISO currency code such as "EUR", got {value!r}')
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def day_start_minutes(self) -> int:
        hours, minutes = self.day_starts_at.split(":")
        return int(hours) * 60 + int(minutes)


class Brand(Section):
    id: str = "1000"
    secret: str | None = None
    header: str = ""

    @field_validator("id")
    @classmethod
    def _four_digits(cls, value: str) -> str:
        if not re.fullmatch(r"[0-9]{4}", value):
            raise ValueError(f'expected four ASCII digits as a string such as "1000", got {value!r}')
        return value

    @field_validator("secret")
    @classmethod
    def _long_enough(cls, value: str | None) -> str | None:
        if value is not None and len(value) < 16:
            raise ValueError("must be at least 16 characters long (run `pos init` for a random one)")
        return value


class Database(Section):
    url: str = Field(default_factory=default_database_url)


class Printer(Section):
    kind: Literal["file", "network", "usb", "serial", "cups", "dummy"] = "dummy"
    paper_mm: Literal[58, 80] = 80
    path: str = "var/printer.bin"
    host: str = "127.0.0.1"
    port: int = Field(default=9100, ge=1, le=65535)
    timeout: float = Field(default=5.0, gt=0, le=600)
    vendor_id: int = Field(default=0, ge=0, le=0xFFFF)
    product_id: int = Field(default=0, ge=0, le=0xFFFF)
    device: str = "/dev/ttyUSB0"
    baudrate: int = Field(default=19200, ge=1, le=4_000_000)
    name: str = ""
    cash_drawer: bool = True
    status_check: bool = True  # network: ask the printer for its paper status around each job


class Scanner(Section):
    kind: Literal["keyboard", "evdev", "serial"] = "keyboard"
    device: str = ""
    baudrate: int = Field(default=9600, ge=1, le=4_000_000)
    burst_ms: int = Field(default=50, ge=1, le=10_000)


class Smtp(Section):
    host: str = ""
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["none", "starttls", "ssl"] = "starttls"
    user: str = ""
    password: str = ""
    sender: str = "tickets@example.org"
    subject_de: str = "Ihre Tickets, Bestellung {order_id}"
    subject_en: str = "Your tickets, order {order_id}"
    body_de: str = "Guten Tag {name},\n\nim Anhang finden Sie Ihre Tickets.\n\n{codes}\n"
    body_en: str = "Hello {name},\n\nyour tickets are attached.\n\n{codes}\n"


class CartLinks(Section):
    secret: str | None = None
    base_url: str = "pos://cart"


class Terminal(Section):
    name: str = "terminal-1"
    gate: str = "main"
    operator: str = "system"
    cash_out_by_cashier: bool = False  # cash out of the drawer: admins only unless this is true
    kiosk: bool = False  # a locked-down till: quitting the app needs an admin's PIN, Ctrl+Z/Ctrl+C do nothing
    # The assortments whose articles this terminal offers and sells (the bar its drinks, the box office its
    # tickets); empty: every assortment.
    assortments: list[str] = Field(default_factory=list)

    @field_validator("assortments")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        names = [name.strip() for name in value]
        if any(not name for name in names):
            raise ValueError('expected assortment names such as ["default", "bar"], got an empty name')
        return names

    def sells(self, assortment: str) -> bool:
        """Whether an article of `assortment` is offered here."""
        return not self.assortments or assortment in self.assortments


FISKALY_BASE_URL = "https://kassensichv-middleware.fiskaly.com/api/v2"


class Fiscal(Section):
    """German fiscal signing (KassenSichV): which TSE signs each journal line, and its credentials."""

    signer: Literal["none", "fiskaly", "simulated"] = "none"
    api_key: SecretStr = SecretStr("")
    api_secret: SecretStr = SecretStr("")
    tss_id: str = ""
    client_id: str = ""
    base_url: str = FISKALY_BASE_URL
    cash_register_serial: str = ""  # the till's serial as the TSE knows it; default: [terminal] name
    timeout_ms: int = Field(default=3000, ge=100, le=60000)  # the longest a sale waits for the TSE
    key_path: str = ""  # simulated: the key file; default: simulated-tse.pem in the data directory

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.fullmatch(r"https?://\S+", value):
            raise ValueError(f"expected an http(s) URL such as {FISKALY_BASE_URL!r}, got {value!r}")
        return value

    @field_validator("tss_id", "client_id")
    @classmethod
    def _uuid(cls, value: str) -> str:
        if value and not re.fullmatch(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}", value):
            raise ValueError(f"expected a UUID such as 6f2b1c3e-0d4a-4f8e-9b7a-2c5d8e1f3a90, got {value!r}")
        return value

    @model_validator(mode="after")
    def _fiskaly_credentials(self) -> Fiscal:
        if self.signer == "fiskaly":
            missing = [
                key
                for key, present in (
                    ("api_key", self.api_key.get_secret_value()),
                    ("api_secret", self.api_secret.get_secret_value()),
                    ("tss_id", self.tss_id),
                    ("client_id", self.client_id),
                )
                if not present
            ]
            if missing:
                raise ValueError(f'signer = "fiskaly" needs {", ".join(missing)}')
        return self


class Gate(Section):
    """The door when the database is away: how long to wait for it, how often to refresh the local copy."""

    offline_after_ms: int = Field(default=800, ge=50, le=60_000)
    sync_seconds: int = Field(default=60, ge=1)
    local_path: str = ""  # default: a file per terminal name in the data directory

    def copy_path(self, terminal: str) -> Path:
        """The gate's local copy and offline queue (SQLite)."""
        if self.local_path:
            return Path(self.local_path).expanduser()
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", terminal) or "terminal"
        return default_data_dir() / f"gate-{safe}.db"


class Config(Section):
    venue: Venue = Field(default_factory=Venue)
    brand: Brand = Field(default_factory=Brand)
    database: Database = Field(default_factory=Database)
    printer: Printer = Field(default_factory=Printer)
    scanner: Scanner = Field(default_factory=Scanner)
    smtp: Smtp = Field(default_factory=Smtp)
    cart_links: CartLinks = Field(default_factory=CartLinks)
    terminal: Terminal = Field(default_factory=Terminal)
    fiscal: Fiscal = Field(default_factory=Fiscal)
    gate: Gate = Field(default_factory=Gate)

    def brand_secret(self) -> bytes:
        """The MAC key; only commands that issue or check tickets ask for it."""
        if not self.brand.secret:
            raise ConfigError(
                "Config key [brand] secret is missing; run `pos init` to write a config with a fresh secret."
            )
        return self.brand.secret.encode()

    def cart_link_secret(self) -> bytes:
        if not self.cart_links.secret:
            raise ConfigError("Config key [cart_links] secret is missing; cart links need a shared secret.")
        return self.cart_links.secret.encode()


class ConfigError(PosError):
    """A configuration problem, told in one sentence naming the key."""


def _key_part(part: object) -> str:
    text = str(part)
    return text if re.fullmatch(r"[A-Za-z0-9_.-]+", text) else json.dumps(text, ensure_ascii=True)


def _describe(error: dict[str, Any]) -> str:
    loc = [_key_part(part) for part in error["loc"]]
    if len(loc) >= 2:
        key = f"[{'.'.join(loc[:-1])}] {loc[-1]}"
    elif loc:
        key = f"[{loc[0]}]"
    else:
        key = "(top level)"
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"Config key {key} is not known; check the spelling against config.example.toml."
    if kind == "missing":
        return f"Config key {key} is missing."
    message = " ".join(str(error["msg"]).split())
    message = message.removeprefix("Value error, ")
    return f"Config key {key} is wrong: {message}."


def parse_config(data: dict[str, Any]) -> Config:
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc.errors()[0])) from None


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Load PATH, else $POS_CONFIG, else ./pos.toml if present, else the defaults."""
    if path is None:
        path = os.environ.get("POS_CONFIG") or None
    if path is None and Path("pos.toml").is_file():
        path = "pos.toml"
    if path is None:
        return Config()
    from pos.files import FileMissing, FileRefused, read_regular_file

    file = Path(path)
    try:
        text = read_regular_file(file, MAX_CONFIG_BYTES, "Config file").decode("utf-8")
    except (FileMissing, FileRefused) as exc:
        raise ConfigError(exc.message, **exc.message_args) from None
    except UnicodeDecodeError:
        raise ConfigError("Config file {path} is not UTF-8 text.", path=str(file)) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            "Config file {file} is not valid TOML: {error}.", file=str(file), error=str(exc)
        ) from None
    return parse_config(data)
