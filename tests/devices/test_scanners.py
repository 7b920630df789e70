"""Scanner devices for `pos gate`: key-event decoding on recorded sequences, a serial reader on a real pty."""

from __future__ import annotations

import os
import threading

import pytest

from pos.config import Scanner
from pos.devices.scanners import (
    EV_KEY,
    LineSplitter,
    ScannerError,
    SerialScanner,
    decode_key_events,
    open_scanner,
    scanner_lines,
)

EV_SYN, EV_MSC = 0, 4
KEY = {"1": 2, "2": 3, "3": 4, "4": 5, "5": 6, "6": 7, "7": 8, "8": 9, "9": 10, "0": 11}
KEYPAD = {"7": 71, "8": 72, "9": 73, "4": 75, "5": 76, "6": 77, "1": 79, "2": 80, "3": 81, "0": 82}
ENTER, KPENTER, LEFTSHIFT, RIGHTSHIFT = 28, 96, 42, 54
CODE = "100000000001234567891234"


def press(code: int) -> list[tuple[int, int, int]]:
    """What a HID scanner emits for one key: MSC_SCAN, key down, SYN, key up, SYN."""
    return [(EV_MSC, 4, 458782), (EV_KEY, code, 1), (EV_SYN, 0, 0), (EV_KEY, code, 0), (EV_SYN, 0, 0)]


def typed(
    text: str, keys: dict[str, int], enter: int = ENTER, shift: int | None = None
) -> list[tuple[int, int, int]]:
    events: list[tuple[int, int, int]] = []
    for char in text:
        if shift is not None:
            events.append((EV_KEY, shift, 1))
        events.extend(press(keys[char]))
        if shift is not None:
            events.append((EV_KEY, shift, 0))
    return events + press(enter)


def test_top_row_digits_and_enter() -> None:
    assert list(decode_key_events(typed(CODE, KEY))) == [CODE]


def test_keypad_digits_and_keypad_enter() -> None:
    assert list(decode_key_events(typed(CODE, KEYPAD, enter=KPENTER))) == [CODE]


def test_shift_held_around_each_digit_is_ignored() -> None:
    events = typed(CODE, KEY, shift=LEFTSHIFT) + typed("0123456789", KEY, shift=RIGHTSHIFT)
    assert list(decode_key_events(events)) == [CODE, "0123456789"]


def test_two_scans_in_a_row_and_auto_repeat_ignored() -> None:
    events = typed("12", KEY) + [(EV_KEY, KEY["3"], 2)] + typed("34", KEY)
    assert list(decode_key_events(events)) == ["12", "34"]


def test_empty_enter_and_unknown_keys_yield_nothing() -> None:
    events = press(ENTER) + press(59) + typed("7", KEY)  # 59 = KEY_F1
    assert list(decode_key_events(events)) == ["7"]


def test_letters_follow_shift() -> None:
    a, b = 30, 48
    events = [(EV_KEY, LEFTSHIFT, 1), *press(a), (EV_KEY, LEFTSHIFT, 0), *press(b), *press(12), *press(ENTER)]
    assert list(decode_key_events(events)) == ["Ab-"]


def test_matches_evdev_constants_when_installed() -> None:
    ecodes = pytest.importorskip("evdev").ecodes
    assert (KEY["1"], KEY["0"], KEYPAD["0"]) == (ecodes.KEY_1, ecodes.KEY_0, ecodes.KEY_KP0)
    assert (ecodes.KEY_ENTER, ecodes.KEY_KPENTER, ecodes.EV_KEY) == (ENTER, KPENTER, EV_KEY)


def test_line_splitter_cr_lf_crlf_and_partial_chunks() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b"1234") == []
    assert splitter.feed(b"5\r678\n9\r\n") == ["12345", "678", "9"]
    assert splitter.feed(b"\r\n\n  42  \r") == ["42"]


def test_serial_scanner_reads_codes_from_a_pseudo_terminal() -> None:
    master, slave = os.openpty()
    try:
        scanner = SerialScanner(os.ttyname(slave), 9600, poll=0.05).open()
        lines: list[str] = []

        def read_two() -> None:
            for line in scanner:
                lines.append(line)
                if len(lines) == 2:
                    scanner.stop()

        reader = threading.Thread(target=read_two)
        reader.start()
        os.write(master, CODE.encode() + b"\r")
        os.write(master, b"1000000000099")
        os.write(master, b"99999999999\n")
        reader.join(timeout=5)
        scanner.close()
        assert not reader.is_alive()
        assert lines == [CODE, "100000000009999999999999"]
    finally:
        os.close(master)
        os.close(slave)


def test_serial_scanner_stop_ends_iteration_without_input() -> None:
    master, slave = os.openpty()
    try:
        with SerialScanner(os.ttyname(slave), poll=0.05) as scanner:
            threading.Timer(0.2, scanner.stop).start()
            assert list(scanner) == []
    finally:
        os.close(master)
        os.close(slave)


def test_configured_devices() -> None:
    assert open_scanner(Scanner(kind="keyboard")) is None
    with pytest.raises(ScannerError, match=r"needs \[scanner\] device"):
        open_scanner(Scanner(kind="serial"))
    with pytest.raises(ScannerError, match="/dev/does-not-exist cannot be opened"):
        open_scanner(Scanner(kind="serial", device="/dev/does-not-exist"))


def test_evdev_without_the_package_or_device_is_one_sentence() -> None:
    with pytest.raises(ScannerError) as caught:
        open_scanner(Scanner(kind="evdev", device="/dev/input/does-not-exist"))
    message = str(caught.value)
    assert "\n" not in message and message.endswith(".")
    assert "python-evdev" in message or "/dev/input/does-not-exist" in message


def test_scanner_lines_falls_back_to_stdin_for_a_keyboard_wedge() -> None:
    with scanner_lines(Scanner(kind="keyboard"), lambda: iter(["a", "b"])) as lines:
        assert list(lines) == ["a", "b"]
