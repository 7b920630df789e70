"""Properties of ticket codes: typos are caught as malformed, guesses as forged, serials give unique codes."""

import random

from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import damm

from pos.domain.ticket_code import (
    BRAND_DIGITS,
    CODE_LENGTH,
    MAX_SERIAL,
    CodeProblem,
    make_code,
    parse_code,
)

BRAND = "1000"
SECRET = b"test-secret-0123456789abcdef"
serials = st.integers(min_value=1, max_value=MAX_SERIAL)


@given(serials)
def test_a_code_reads_back_as_its_serial(serial: int) -> None:
    code = make_code(BRAND, serial, SECRET)
    assert len(code) == CODE_LENGTH and code.isascii() and code.isdigit()
    assert parse_code(code, BRAND, SECRET).serial == serial


@given(serials)
@settings(max_examples=60)
def test_every_single_digit_change_is_malformed(serial: int) -> None:
    code = make_code(BRAND, serial, SECRET)
    for position in range(CODE_LENGTH):
        for digit in "0123456789":
            if digit == code[position]:
                continue
            typo = code[:position] + digit + code[position + 1 :]
            assert parse_code(typo, BRAND, SECRET).problem is CodeProblem.MALFORMED, (position, digit)


@given(serials)
@settings(max_examples=200)
def test_every_adjacent_swap_is_malformed(serial: int) -> None:
    code = make_code(BRAND, serial, SECRET)
    for position in range(CODE_LENGTH - 1):
        if code[position] == code[position + 1]:
            continue  # swapping equal digits changes nothing
        swapped = code[:position] + code[position + 1] + code[position] + code[position + 2 :]
        assert parse_code(swapped, BRAND, SECRET).problem is CodeProblem.MALFORMED, position


@given(st.text(alphabet="0123456789", min_size=CODE_LENGTH, max_size=CODE_LENGTH))
@settings(max_examples=500)
def test_a_random_24_digit_string_never_passes(scanned: str) -> None:
    assert not parse_code(scanned, BRAND, SECRET).ok


def test_random_strings_fail_at_the_check_digit_nine_times_in_ten() -> None:
    rng = random.Random(20261231)
    n = 20_000
    problems = [parse_code(_digits(rng, CODE_LENGTH), BRAND, SECRET).problem for _ in range(n)]
    malformed = problems.count(CodeProblem.MALFORMED) / n
    assert 0.88 < malformed < 0.92  # a Damm check digit lets one string in ten through
    assert None not in problems


def test_well_formed_guesses_of_our_brand_are_stopped_by_the_mac() -> None:
    """Strings with our brand and a valid check digit get past shape and brand; the MAC stops all of them."""
    rng = random.Random(7)
    n = 50_000  # each passes the MAC with probability 1e-9
    outcomes = set()
    for _ in range(n):
        body = BRAND + _digits(rng, CODE_LENGTH - BRAND_DIGITS - 1)
        guess = body + damm.calc_check_digit(body)
        outcomes.add(parse_code(guess, BRAND, SECRET).problem)
    assert outcomes == {CodeProblem.FORGED}


def test_another_brand_is_foreign_and_another_secret_is_forged() -> None:
    code = make_code("2000", 42, SECRET)
    assert parse_code(code, BRAND, SECRET).problem is CodeProblem.FOREIGN_BRAND
    ours = make_code(BRAND, 42, SECRET)
    assert parse_code(ours, BRAND, b"another-secret-0123456789").problem is CodeProblem.FORGED


def test_non_ascii_digits_are_malformed() -> None:
    code = make_code(BRAND, 42, SECRET)
    full_width = "".join(chr(ord(c) - ord("0") + ord("０")) for c in code)
    assert parse_code(full_width, BRAND, SECRET).problem is CodeProblem.MALFORMED
    assert parse_code(code + "0", BRAND, SECRET).problem is CodeProblem.MALFORMED


def test_codes_of_many_serials_are_unique() -> None:
    codes = {make_code(BRAND, serial, SECRET) for serial in range(1, 100_001)}
    assert len(codes) == 100_000
    spread = {make_code(BRAND, serial, SECRET) for serial in range(MAX_SERIAL - 1000, MAX_SERIAL + 1)}
    assert len(spread) == 1001


def _digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(count))
