from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from pos.config import Venue
from pos.i18n import LOCALE_DIR, language, venue_language


def test_german_catalog_is_compiled_and_committed() -> None:
    assert (LOCALE_DIR / "de" / "LC_MESSAGES" / "pos.mo").is_file()
    assert language("de")._("Change") == "Rückgeld"
    assert language("en")._("Change") == "Change"
    assert language("de")._("no such message") == "no such message"


def test_money_and_dates_follow_the_language() -> None:
    de, en = language("de"), language("en")
    assert de.money(4990) == "49,90\xa0€"
    assert en.money(4990) == "€49.90"
    assert de.money(-250) == "-2,50\xa0€"
    assert (de.amount(123456), en.amount(5)) == ("1234,56", "0.05")
    at = datetime(2026, 12, 31, 20, 0, tzinfo=UTC)
    assert de.datetime(at) == "31.12.26, 21:00"
    assert en.datetime(at) == "31/12/2026, 21:00"
    assert de.time(at) == "21:00"
    assert de.date(date(2027, 1, 15)) == "15.01.2027"


def test_venue_language_takes_currency_and_zone() -> None:
    venue = Venue(language="en", currency="CHF", timezone="Europe/Zurich")
    lang = venue_language(venue)
    assert (lang.code, lang.currency, lang.zone) == ("en", "CHF", ZoneInfo("Europe/Zurich"))
    assert venue_language(venue, "de").code == "de"
    with pytest.raises(ValueError):
        language("fr")


def test_euros_without_babel_are_written_exactly_as_babel_writes_them() -> None:
    """The fast path for the sale screen's first paint must not change a single character."""
    import random
    from decimal import Decimal

    from babel.numbers import format_currency

    rng = random.Random(16)
    amounts = [
        0,
        1,
        5,
        99,
        100,
        250,
        99999,
        100000,
        123456,
        10**9,
        *(rng.randint(-(10**10), 10**10) for _ in range(500)),
    ]
    for code, locale in (("de", "de_DE"), ("en", "en_GB")):
        lang = language(code)
        for cents in [*amounts, *(-a for a in amounts)]:
            assert lang.money(cents) == format_currency(Decimal(cents) / 100, "EUR", locale=locale), (
                code,
                cents,
            )
    assert language("de", currency="CHF").money(150) == format_currency(
        Decimal("1.50"), "CHF", locale="de_DE"
    )
