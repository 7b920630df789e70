"""Property-based fuzz of every `pos` command's arguments and of the cart-link payload (issue 18).

The commands are found by walking the Typer app, so a command added later is fuzzed too. Each generated call
runs in-process (Typer's CliRunner) against one database that the run keeps changing, and must:

- end with exit code 0, 1 or 2 (3 is the crash path: never);
- on exit 2 (a refusal) write exactly one line to stderr and change nothing in the database;
- on exit 1 (a rejected scan, a failed print, an aborted prompt) write at most one line to stderr;
- never print a traceback, and never leave a crash log.

After the run `pos db check` finds nothing oversold or half-written. The default run makes a few hundred calls
(POS_FUZZ_CASES); `pytest -m slow` makes 10,000 (POS_FUZZ_SLOW_CASES). POS_FUZZ_REPORT=path.json writes the
exit-code counts of a run there.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pos.cli import app
from pos.domain.cart_link import CartLinkError, b64url, parse_link, signature
from tests.conftest import CONFIG_TOML
from tests.hostile import database_state, run_cli

FAST = int(os.environ.get("POS_FUZZ_CASES", "150"))
SLOW = int(os.environ.get("POS_FUZZ_SLOW_CASES", "10000"))
LINK_SECRET = "cart-link-secret-0123456789"  # [cart_links] secret of tests.conftest.CONFIG_TOML
ZONE = ZoneInfo("Europe/Berlin")

# Commands that run until stopped, or read a device: not for a fuzz.
SKIPPED_COMMANDS = {("run",), ("mail", "worker")}
SKIPPED_OPTIONS = {"input_"}  # `pos gate --input PATH` reads a device or FIFO by design

# ---- values -----------------------------------------------------------------------------------------------

EDGE_TIMES = [
    "0001-01-01",
    "0001-01-01T00:00",
    "9999-12-31",
    "9999-12-31T23:59:59-05:00",
    "9999-12-31T23:59:59+14:00",
    "1899-12-31T23:59:59Z",
    "1900-01-01",
    "1900-01-01T00:00",
    "2200-12-31T23:59:59-12:00",
    "2201-01-01",
    "2026-12-31",
    "2026-12-31T20:00",
    "2026-02-30",
    "2026-12-31T25:00",
    "yesterday",
    "２０２６-12-31",
    "20261231",
    "2026-W53-1",
    "2026-12-31T20:00+99:00",
]
NUMBERS = [
    "0",
    "1",
    "2",
    "5",
    "-1",
    "+1",
    "1e9",
    "NaN",
    "inf",
    "0x10",
    "1_000",
    "2147483647",
    "2147483648",
    "3000000000",
    "9223372036854775807",
    "9223372036854775808",
    "99999999999999999999",
    "9" * 5000,
    "²",
    "١٢",
    "１２",
    "٣",
    " 7 ",
    "unlimited",
    "#1",
    "#2",
    "#99999999999999999999",
    "#²",
    "#١",
]
AMOUNTS = [
    "0",
    "0.01",
    "49.90",
    "49,90",
    "999999.99",
    "1000000",
    "50000000",
    "25000000",
    "1.005",
    "1e5",
    "-5",
    ".5",
    "١٢",
    "NaN",
    "Infinity",
    "0" * 100 + "1",
    "1" + "0" * 100,
]
RATES = ["0", "7", "19", "7.7", "100", "101", "12.345", "-1", "١٩", "1e1", "50%"]
DURATIONS = [
    "30m",
    "24h",
    "7d",
    "1d12h",
    "0s",
    "3660d",
    "3661d",
    "99999999999999d",
    "٢h",
    "1y",
    "",
    "9" * 400 + "s",
]
TEXTS = [
    "",
    " ",
    "-",
    "--",
    "Anna",
    "Konzert Erwachsene",
    "' OR 1=1 --",
    "\x1b[2J",
    "a\nb",
    "é" * 300,
    "€",
    "x" * 10_000,
    "a\x00b",
    "\ud800",
    "Ann\udcff",
    "\u202e",
    "🎫",
]
EMAILS = ["anna@example.org", "not-an-email", "a@b", "@", "x" * 300 + "@example.org", "anna@example.org\n"]
CHOICES = [
    "cash",
    "card",
    "free",
    "cash:20",
    "card:5",
    "cash:99999999999999999999",
    "csv",
    "xml",
    "json",
    "exact",
    "day",
    "hour",
    "none",
    "anytime",
    "daily",
    "same-day",
    "admin",
    "cashier",
    "boss",
    "de",
    "en",
    "fr",
    "pending",
    "sent",
    "accept",
    "credit",
]
ARTICLES = [
    "Konzert Erwachsene",
    "Konzert Kind",
    "Konzert VIP",
    "Bier 0,5 l",
    "Tasse",
    "T-Shirt Größe M",
    "Tageskarte mit Wiedereinlass",
    "#1",
    "#2",
    "#7",
    "Konzert Erwachsene:2",
    "Bier 0,5 l:3",
    "Tasse:1000",
    "Tasse:1001",
    "Bier 0,5 l:0",
    "Bier 0,5 l:99999999999999999999",
    "Bier 0,5 l:١٢",
    "Nope",
    "#0",
    "#99999999999999999999",
    "#²",
]
PROMOS = ["SAVE5", "VIP2027", "TENPERCENT", "NOPE", "save5", "", "x" * 200]


def text_values() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(TEXTS), st.text(max_size=24))


def pick(pool: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(pool), st.sampled_from(pool), st.sampled_from(NUMBERS + TEXTS))


class World:
    """What the generated values may refer to: the run's temporary files, ticket codes, cart links."""

    def __init__(self, tmp: Path, codes: list[str]) -> None:
        self.tmp = tmp
        self.codes = codes
        fifo = tmp / "fifo"
        if not fifo.exists():
            os.mkfifo(fifo)
        (tmp / "customers.csv").write_text(
            "name,email,phone,birthday\nAnna,anna@example.org,,1990-05-17\n", encoding="utf-8"
        )
        (tmp / "bad.csv").write_text("name,email\nBo\x00b,bob@example.org\nEve,eve@\n", encoding="utf-8")
        (tmp / "edges.csv").write_text("name,birthday\nOld,0001-01-01\n", encoding="utf-8")
        (tmp / "big.csv").write_text("name\n" + "x\n" * 10, encoding="utf-8")
        (tmp / "out").mkdir(exist_ok=True)

    def paths(self) -> st.SearchStrategy[str]:
        tmp = self.tmp
        return st.sampled_from(
            [
                str(tmp / "out" / "file.csv"),
                str(tmp / "out" / "file.zip"),
                str(tmp / "missing-dir" / "x.csv"),
                str(tmp / "fifo"),
                str(tmp / "out"),
                str(tmp / "customers.csv"),
                str(tmp / "bad.csv"),
                str(tmp / "edges.csv"),
                str(tmp / "big.csv"),
                str(tmp / "nope.csv"),
                "/dev/zero",
                "/dev/full",
                "/dev/null",
                "-",
                str(tmp / "out" / "init.toml"),
            ]
        )

    def ticket_codes(self) -> st.SearchStrategy[str]:
        return st.one_of(
            st.sampled_from(self.codes),
            st.sampled_from(
                ["", "0" * 24, "1" * 24, "１" * 24, "1" * 5000, self.codes[0][:-1], self.codes[0] + "0"]
            ),
            st.text(alphabet="0123456789", min_size=20, max_size=28),
        )

    def cart_links(self) -> st.SearchStrategy[str]:
        return st.one_of(
            signed_links(), st.sampled_from(["pos://cart", "pos://cart?v=1&c=&s=", "x" * 20_000])
        )


def _signed(payload_text: str) -> str:
    content = b64url(payload_text.encode("utf-8", "surrogatepass"))
    return f"pos://cart?v=1&c={content}&s={signature(LINK_SECRET.encode(), content)}"


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from(EDGE_TIMES),
    st.sampled_from(ARTICLES + TEXTS[:-3]),
    st.floats(allow_nan=True),
)
link_lines = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "article": st.sampled_from(ARTICLES + TEXTS[:-3]),
            "article_id": st.one_of(
                st.integers(min_value=-5, max_value=20), st.sampled_from([10**30, 2**63, 2**31])
            ),
            "qty": st.one_of(st.integers(min_value=-2, max_value=1002), st.sampled_from([10**30, True, "2"])),
            "valid_from": st.sampled_from(EDGE_TIMES),
            "valid_until": st.sampled_from(EDGE_TIMES),
        },
    ),
    max_size=4,
)
payloads = st.fixed_dictionaries(
    {"v": st.sampled_from([1, 1, 1, 2, "1", None]), "lines": st.one_of(link_lines, json_scalars)},
    optional={
        "id": st.one_of(st.text(alphabet="abcXYZ019._:-", min_size=1, max_size=70), json_scalars),
        "exp": st.one_of(st.sampled_from(EDGE_TIMES + ["2099-01-01T00:00Z"] * 5), json_scalars),
        "customer": st.one_of(
            st.fixed_dictionaries(
                {},
                optional={"name": st.sampled_from(TEXTS[:-3] + ["Anna"]), "email": st.sampled_from(EMAILS)},
            ),
            json_scalars,
        ),
        "promo": st.one_of(st.sampled_from(PROMOS), json_scalars),
    },
)


def signed_links() -> st.SearchStrategy[str]:
    nested = st.integers(min_value=1, max_value=6000).map(
        lambda depth: '{"v":1,"lines":' + "[" * depth + "]" * depth + "}"
    )
    return st.one_of(payloads.map(lambda p: _signed(json.dumps(p, ensure_ascii=False))), nested.map(_signed))


def values_for(param: Any, world: World) -> st.SearchStrategy[str]:
    """A strategy for one parameter, chosen by its name; hostile values of every kind mixed in."""
    name = param.name or ""
    if name in ("output", "path", "file", "printer_file", "config"):
        return world.paths()
    if name in ("code", "codes", "ticket", "tickets"):
        return world.ticket_codes()
    if name in ("cart_link", "url"):
        return world.cart_links()
    if name in ("at", "valid_from", "valid_until", "date_from", "date_to", "event_date", "birthday"):
        return pick(EDGE_TIMES)
    if name in ("price", "given", "amount", "counted", "cash_float", "float_"):
        return pick(AMOUNTS)
    if name in ("vat", "percent"):
        return pick(RATES)
    if name in ("expires_in",):
        return pick(DURATIONS)
    if name in (
        "uses",
        "count",
        "available",
        "repeat_limit",
        "limit",
        "order",
        "order_text",
        "entry_text",
        "customer",
        "interval_text",
        "shift_text",
        "shift_id",
        "conflict_id",
        "conflict_text",
    ):
        return pick(NUMBERS)
    if name in ("articles", "items", "article", "unlock", "applies_to", "line", "lines"):
        return pick(ARTICLES)
    if name in ("promo", "link_promo", "prefix"):
        return pick(PROMOS)
    if name in ("customer_email", "email"):
        return pick(EMAILS)
    if name in (
        "pay",
        "fmt",
        "precision",
        "repeat",
        "role",
        "language",
        "status",
        "refund",
        "decision",
        "kind",
        "action",
    ):
        return pick(CHOICES)
    if name == "database":
        return st.sampled_from(
            ["sqlite:///" + str(world.tmp / "init.db"), 'x"y\n[venue]', "postgresql://u:pw@h/d"]
        )
    return text_values()


# ---- commands ---------------------------------------------------------------------------------------------


def all_commands() -> list[tuple[tuple[str, ...], Any]]:
    """(path, click command) of every leaf command of `pos`, found by walking the Typer app."""
    root = typer.main.get_command(app)
    found: list[tuple[tuple[str, ...], Any]] = []

    def walk(group: Any, path: tuple[str, ...]) -> None:
        for name, command in sorted(group.commands.items()):
            if hasattr(command, "commands"):
                walk(command, (*path, name))
            elif (*path, name) not in SKIPPED_COMMANDS:
                found.append(((*path, name), command))

    walk(root, ())
    return found


COMMANDS = all_commands()


@st.composite
def invocations(draw: Any, world: World) -> tuple[list[str], str | None]:
    """One call: a command, some of its options (valid, hostile, repeated), its arguments, maybe junk."""
    path, command = draw(st.sampled_from(COMMANDS))
    words: list[str] = []
    if draw(st.integers(0, 19)) == 0:  # the global options, now and then
        words += draw(
            st.sampled_from(
                [
                    ["--db", "sqlite:///" + str(world.tmp / "missing" / "x.db")],
                    ["--db", "sqlite:///" + str(world.tmp / "customers.csv")],
                    ["--db", "postgresql://pos:pw@127.0.0.1:1/pos"],
                    ["--db", "mysql://x"],
                    ["--config", "/dev/zero"],
                    ["--config", str(world.tmp / "fifo")],
                    ["--config", str(world.tmp / "out")],
                ]
            )
        )
    words += list(path)
    stdin: str | None = None
    options: list[list[str]] = []
    arguments: list[str] = []
    for param in command.params:
        if param.name in SKIPPED_OPTIONS:
            continue
        if param.param_type_name == "argument":
            if draw(st.integers(0, 9)) == 0:
                continue  # now and then a missing argument
            many = param.nargs == -1
            count = draw(st.integers(1, 3)) if many else 1
            arguments += [draw(values_for(param, world)) for _ in range(count)]
            continue
        if draw(st.booleans()):
            continue
        flag = draw(st.sampled_from([opt for opt in param.opts if opt.startswith("--")] or param.opts))
        if param.is_flag:
            options.append([flag])
            if param.name == "pin_stdin":
                stdin = draw(st.sampled_from(["1234\n", "12\n", "", "1" * 100 + "\n", "١٢٣٤\n", "4711"]))
            continue
        for _ in range(draw(st.integers(1, 2)) if param.multiple else 1):
            options.append([flag, draw(values_for(param, world))])
    if draw(st.integers(0, 9)) == 0:
        options.append([draw(st.sampled_from(["--nope", "--json"]))])
    for option in draw(st.permutations(options)):
        words += option
    words += arguments
    if draw(st.integers(0, 9)) == 0:
        junk = draw(text_values())
        if not junk.startswith("-"):
            words.append(junk)
    if stdin is None and draw(st.integers(0, 3)) == 0:
        stdin = draw(st.sampled_from(["", "1234\n1234\n", "1234\n4321\n", "\n".join(world.codes) + "\n"]))
    return words, stdin


# ---- the run ----------------------------------------------------------------------------------------------

EXIT_CODES: Counter[int] = Counter()


@pytest.fixture
def world(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Path, dict[str, str], World]]:
    from pos.runtime import Runtime
    from pos.services.demo import load_demo
    from tests.conftest import test_config
    from tests.factories import ADMIN, add_customer, issue_tickets

    monkeypatch.chdir(
        tmp_path
    )  # a generated relative path ('-', 'Scunthorpe') lands here, not in the checkout
    rt = Runtime(config=test_config(), database_url=db_url, operator="tester")
    load_demo(rt, ADMIN)
    codes = [t.code for t in issue_tickets(rt, "Konzert Erwachsene", 2)]
    codes += [t.code for t in issue_tickets(rt, "Tageskarte mit Wiedereinlass", 1)]
    codes += [t.code for t in issue_tickets(rt, "Konzert Kind", 1, voided=True)]
    add_customer(rt, "Anna Müller", email="anna@example.org")
    rt.engine.dispose()
    config = tmp_path / "pos.toml"
    config.write_text(CONFIG_TOML, encoding="utf-8")
    env = {"POS_DB": db_url, "POS_CONFIG": str(config), "XDG_DATA_HOME": str(tmp_path / "data")}
    yield tmp_path, env, World(tmp_path, codes)
    check = run_cli(["db", "check", "--json"], env)
    assert check.exit_code == 0, check.stdout + check.stderr
    assert json.loads(check.stdout)["ok"] is True
    assert not (tmp_path / "data" / "pos" / "crash.log").exists()


def call_once(db_url: str, env: dict[str, str], words: list[str], stdin: str | None) -> None:
    before = database_state(db_url)
    result = run_cli(words, env, input=stdin)
    code = result.exit_code
    EXIT_CODES[code] += 1
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.stdout + result.stderr, words
    assert code in (0, 1, 2), (words, code, result.stderr, repr(result.exception))
    if code == 2:
        assert len(errors) == 1 and errors[0].startswith("Error: "), (words, result.stderr)
        assert database_state(db_url) == before, (words, result.stderr)
    if code == 1:
        assert len(errors) <= 1, (words, result.stderr)


def report_counts(label: str) -> None:
    path = os.environ.get("POS_FUZZ_REPORT")
    if path:
        Path(path).write_text(
            json.dumps({"run": label, "exit_codes": dict(EXIT_CODES)}, indent=2), encoding="utf-8"
        )


def test_every_command_is_fuzzed() -> None:
    names = {" ".join(path) for path, _command in COMMANDS}
    assert {
        "shift open",
        "cash in",
        "order return",
        "sell",
        "redeem",
        "door resolve",
        "gate sync",
        "article add",
        "promo generate",
        "cart-link create",
        "customer import",
        "operator add",
        "export attendance",
        "report sales",
        "db upgrade",
        "init",
    } <= names


def fuzz_cli(
    world: tuple[Path, dict[str, str], World], db_url: str, cases: int, per_postgres: int, label: str
) -> None:
    """`cases` generated calls (1 in `per_postgres` of them on PostgreSQL, where a call costs more); none may
    crash."""
    _tmp, env, things = world
    EXIT_CODES.clear()
    postgres = not db_url.startswith("sqlite")

    @settings(
        max_examples=cases // per_postgres if postgres else cases,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(invocations(things))
    def fuzz(call: tuple[list[str], str | None]) -> None:
        call_once(db_url, env, *call)

    fuzz()
    report_counts(f"{label}-postgres" if postgres else f"{label}-sqlite")
    assert EXIT_CODES[3] == 0


def test_cli_fuzz(world, db_url: str) -> None:
    fuzz_cli(world, db_url, FAST, 3, "default")


@pytest.mark.slow
def test_cli_fuzz_long(world, db_url: str) -> None:
    fuzz_cli(world, db_url, SLOW, 5, "slow")


# ---- the cart-link payload alone --------------------------------------------------------------------------


def _link_is_one_sentence(url: str) -> None:
    try:
        link = parse_link(url, LINK_SECRET.encode(), datetime(2026, 12, 31, 20, 0, tzinfo=UTC), ZONE)
    except CartLinkError as error:
        text = str(error)
        assert text and "\n" not in text and len(text) < 400
    else:
        assert link.lines and 1 <= len(link.id) <= 64


@settings(max_examples=max(FAST, 200), deadline=None, database=None)
@given(signed_links())
def test_cart_link_payloads(url: str) -> None:
    _link_is_one_sentence(url)


@pytest.mark.slow
@settings(max_examples=SLOW, deadline=None, database=None)
@given(signed_links())
def test_cart_link_payloads_long(url: str) -> None:
    _link_is_one_sentence(url)
