"""Issue 16 problem 5: nothing English in the German app.

Walks every screen and dialog a cashier, a steward or an admin reaches (login, the admin's start, shift open,
sale, unlock and scan messages, the order popup, payment, orders, ticket detail, door, the admin tabs and their
dialogs, the shift close), in German, and collects every line the terminal shows. It fails on a line that
shows the English source of a catalog entry whose German differs, or that reads like an English sentence (its
words are English words no German text uses) - so a text that never went through the catalog is caught too.
"""

from __future__ import annotations

import os
import re
from functools import cache

from textual.pilot import Pilot

from pos.i18n import catalog
from pos.screens.app import PosApp
from tests.factories import add_promo, issue_tickets
from tests.screens.backoffice_app import scan, wait_until
from tests.screens.helpers import keys, log_in, screen_text, settle

# Words of English sentences that German text does not use (whole words, case-sensitive where noted below).
ENGLISH_WORDS = {
    "the",
    "is",
    "are",
    "were",
    "has",
    "have",
    "of",
    "to",
    "with",
    "for",
    "from",
    "this",
    "that",
    "and",
    "not",
    "yes",
    "your",
    "you",
    "its",
    "it",
    "by",
    "off",
    "each",
    "per",
    "left",
    "found",
    "added",
    "press",
    "scan",
    "type",
    "cancel",
    "close",
    "back",
    "search",
    "pay",
    "clear",
    "quit",
    "logout",
    "cart",
    "total",
    "orders",
    "order",
    "door",
    "sold",
    "price",
    "amount",
    "change",
    "given",
    "customer",
    "payment",
    "cash",
    "card",
    "shift",
    "report",
    "unlimited",
    "single",
    "entry",
    "entries",
    "none",
    "new",
    # the door's reason identifiers, which must never be shown as they are
    "malformed",
    "forged",
    "unknown",
    "voided",
    "expired",
    "already_redeemed",
    "already_today",
    "limit_reached",
    "not_same_day",
    "not_yet_valid",
    "foreign_brand",
}
# Lines that are the same in both languages (names from the demo data, codes, the venue's name).
SAME_IN_BOTH = ("pos box office", "test-terminal")


@cache
def english_sources() -> list[tuple[str, str, re.Pattern[str]]]:
    """Each catalog entry whose German differs from its English source, as a pattern over one screen line, with
    the longest literal part of it (a line without that part cannot match: 600 patterns x every line)."""
    german = catalog("de")
    patterns = []
    for message in german._catalog:  # type: ignore[attr-defined]
        source = message[0] if isinstance(message, tuple) else message
        if not source or not isinstance(source, str):
            continue
        translated = german.gettext(source)
        words = re.findall(r"[A-Za-z]{2,}", re.sub(r"\{[^}]*\}", " ", source))
        if translated == source or not words:
            continue
        parts = re.split(r"\{[^}]*\}", source.strip())
        if sum(len(p.strip()) for p in parts) < 4 and len(words) < 2:
            # A one-word source ("Qty", "Back") only counts as a whole word.
            pattern = r"(?<![\w-])" + re.escape(source.strip()) + r"(?![\w-])"
        else:
            pattern = ".+?".join(re.escape(p) for p in parts)
        patterns.append((source, max(parts, key=len), re.compile(pattern)))
    return patterns


def english_in(text: str) -> list[str]:
    found = []
    for line in text.splitlines():
        checked = re.sub(r"\S*/\S*", " ", line)  # file paths
        for same in SAME_IN_BOTH:
            checked = checked.replace(same, "")
        for source, literal, pattern in english_sources():
            if literal in checked and pattern.search(checked):
                found.append(f"{line.strip()!r} shows the English {source!r}")
        words = [w for w in re.findall(r"[A-Za-z_]+", checked) if w.lower() in ENGLISH_WORDS]
        if words:
            found.append(f"{line.strip()!r} reads English: {', '.join(words)}")
    return found


class Walk:
    """What each screen showed, by name."""

    def __init__(self, pilot: Pilot) -> None:
        self.pilot = pilot
        self.seen: dict[str, str] = {}

    async def look(self, name: str) -> None:
        await settle(self.pilot)
        self.seen[name] = screen_text(self.pilot)

    def problems(self) -> list[str]:
        return [f"{name}: {problem}" for name, text in self.seen.items() for problem in english_in(text)]


def assert_german(walk: Walk, screens: int) -> None:
    assert len(walk.seen) == screens
    if os.environ.get("POS_DUMP_WALK"):
        with open(os.environ["POS_DUMP_WALK"], "a", encoding="utf-8") as dump:
            for name, text in walk.seen.items():
                dump.write(f"===== {name}\n{text}\n")
    problems = walk.problems()
    assert not problems, "English in the German app:\n" + "\n".join(problems)


# The walk is cut in two (the cashier's screens, the admin's) so that two test processes share it.


async def test_the_cashiers_screens_speak_german(make_shop, clock, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    shop = make_shop("de")
    add_promo(shop, "KIND5", amount_cents=500, applies_to=["Konzert Kind"])
    sold = issue_tickets(shop, "10er-Karte Sauna", holder_name="Erika Mustermann")[0]
    app = PosApp(shop)
    async with app.run_test(size=(120, 40)) as pilot:
        walk = Walk(pilot)
        await settle(pilot)
        await keys(pilot, *"kasse", "enter", "0")
        await walk.look("login")
        await keys(pilot, "0", "0", "1", "enter")
        await walk.look("login refused")
        await keys(pilot, "escape")
        await log_in(pilot, "admin", "1234", till=False)
        await walk.look("admin start")
        await keys(pilot, "enter")
        await walk.look("shift open")
        await keys(pilot, *"100", "enter")
        sale = app.screen
        await walk.look("sale")
        await keys(pilot, "f10", *"save10", "enter")
        await walk.look("sale: a reduction code entered as unlock code")
        await keys(pilot, "f10", *"vip2027", "enter")
        await walk.look("sale: unlocked")
        await pilot.press(*"4009999999992", "enter")
        await walk.look("sale: unknown scan")
        await keys(pilot, f"f{sale.groups.index('Veranstaltungen') + 1}", "1", "3", "9")
        await walk.look("sale: cart")
        await keys(pilot, "ctrl+g")
        await walk.look("sale: leaving with a cart")
        await keys(pilot, "ctrl+q")
        await walk.look("quit question")
        await keys(pilot, "escape", "f12")
        await walk.look("payment")
        await keys(pilot, "f2", *"kind5", "enter", "f6")
        await walk.look("card payment")
        await keys(pilot, "escape", "f3", *"200")
        await walk.look("payment: code and cash")
        await keys(pilot, "f5")
        await walk.look("paid")
        await keys(pilot, "enter")
        await pilot.press(*sold.code, "enter")
        await walk.look("order popup")
        await keys(pilot, "escape", "ctrl+r")
        await walk.look("orders")
        await keys(pilot, "f2")
        await walk.look("orders: cancel question")
        await keys(pilot, "escape", "tab", "tab")
        await keys(pilot, "f3")
        await walk.look("ticket detail")
        await keys(pilot, "escape", "ctrl+g")
        await scan(pilot, sold.code)
        await walk.look("door: accepted")
    assert_german(walk, 20)


async def test_the_admins_screens_speak_german(make_shop, clock, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    shop = make_shop("de")
    add_promo(shop, "KIND5", amount_cents=500, applies_to=["Konzert Kind"])
    issue_tickets(shop, "10er-Karte Sauna", holder_name="Erika Mustermann")
    app = PosApp(shop)
    async with app.run_test(size=(120, 40)) as pilot:
        walk = Walk(pilot)
        await log_in(pilot, "admin", "1234")
        await keys(pilot, "ctrl+t")
        await walk.look("admin: articles")
        for key, name in (("f5", "limit"), ("f6", "repeat"), ("f7", "reset")):
            await keys(pilot, key)
            await walk.look(f"admin: articles: {name} dialog")
            await keys(pilot, "escape")
        await keys(pilot, "f2")
        await walk.look("admin: promo codes")
        for key, name in (("f5", "new code"), ("f6", "generate")):
            await keys(pilot, key)
            await walk.look(f"admin: promo codes: {name} dialog")
            await keys(pilot, "escape")
        await keys(pilot, "f3")
        await walk.look("admin: export")
        await keys(pilot, "f5")
        await walk.look("admin: exported")
        await keys(pilot, "f5")
        await walk.look("admin: export: overwrite question")
        await keys(pilot, "escape", "f4")
        await walk.look("admin: reports")
        await keys(pilot, "f9")
        await walk.look("admin: ticket lookup")
        await keys(pilot, "escape", "ctrl+g")
        door = app.screen
        await scan(pilot, "123456789012345678901234")
        await wait_until(pilot, lambda: door.painted >= 1)
        await walk.look("door: rejected")
        await keys(pilot, "escape", "ctrl+b")
        await walk.look("shift close")
    assert_german(walk, 14)
