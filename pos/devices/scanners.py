"""Barcode scanners for a headless gate (`pos gate`): one scanned code per line, whatever the device.

`[scanner] kind`:
- "keyboard": the scanner types into the terminal; `pos gate` reads standard input.
- "evdev": a USB HID scanner read directly from /dev/input/event* (python-evdev, optional), grabbed
  exclusively so its keystrokes do not also land on a console. Key codes become text with `KeyDecoder`.
- "serial": a scanner in CDC-ACM / virtual COM mode (/dev/ttyACM0) through pyserial; a code ends with CR or LF.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from pos.errors import PosError

if TYPE_CHECKING:
    from pos.config import Scanner

# Linux input event codes (linux/input-event-codes.h), so decoding needs no evdev import.
EV_KEY = 1
KEY_DOWN, KEY_UP, KEY_HOLD = 1, 0, 2
KEY_LEFTSHIFT, KEY_RIGHTSHIFT, KEY_CAPSLOCK = 42, 54, 58
KEY_ENTER, KEY_KPENTER = 28, 96
_LINE_END = frozenset({KEY_ENTER, KEY_KPENTER})
_SHIFTS = frozenset({KEY_LEFTSHIFT, KEY_RIGHTSHIFT})

# KEY_1..KEY_9 = 2..10, KEY_0 = 11; the keypad digits; shift does not change a digit (some scanners send it).
_DIGITS: dict[int, str] = {2 + i: str((i + 1) % 10) for i in range(10)}
_DIGITS.update({82: "0", 79: "1", 80: "2", 81: "3", 75: "4", 76: "5", 77: "6", 71: "7", 72: "8", 73: "9"})
_LETTERS: dict[int, str] = dict(
    zip(
        [
            16,
            17,
            18,
            19,
            20,
            21,
            22,
            23,
            24,
            25,
            30,
            31,
            32,
            33,
            34,
            35,
            36,
            37,
            38,
            44,
            45,
            46,
            47,
            48,
            49,
            50,
        ],
        "qwertyuiopasdfghjklzxcvbnm",
        strict=True,
    )
)
# Unshifted US-layout punctuation and keypad operators: enough for ids such as "ABC-123/4.5".
_SYMBOLS: dict[int, str] = {
    12: "-",
    13: "=",
    51: ",",
    52: ".",
    53: "/",
    39: ";",
    57: " ",
    74: "-",
    78: "+",
    55: "*",
    98: "/",
    83: ".",
}
_SHIFTED_SYMBOLS: dict[int, str] = {12: "_", 13: "+", 39: ":", 51: "<", 52: ">", 53: "?"}


class ScannerError(PosError):
    """The configured scanner cannot be opened or read; one sentence naming the device."""


class KeyDecoder:
    """Turns key events into lines of text. Fed one event at a time, so it works on a live stream."""

    def __init__(self) -> None:
        self._shift = False
        self._buffer: list[str] = []

    def feed(self, event_type: int, code: int, value: int) -> str | None:
        """Returns the finished line at Enter, else None. Key-up and auto-repeat add nothing."""
        if event_type != EV_KEY:
            return None
        if code in _SHIFTS:
            self._shift = value != KEY_UP
            return None
        if value != KEY_DOWN:
            return None
        if code in _LINE_END:
            line, self._buffer = "".join(self._buffer), []
            return line
        char = key_char(code, self._shift)
        if char is not None:
            self._buffer.append(char)
        return None


def key_char(code: int, shift: bool) -> str | None:
    if code in _DIGITS:
        return _DIGITS[code]
    if code in _LETTERS:
        return _LETTERS[code].upper() if shift else _LETTERS[code]
    if shift and code in _SHIFTED_SYMBOLS:
        return _SHIFTED_SYMBOLS[code]
    return _SYMBOLS.get(code)


def decode_key_events(events: Iterable[tuple[int, int, int]]) -> Iterator[str]:
    """(type, code, value) events -> the lines they type, each ended by Enter; empty lines are skipped."""
    decoder = KeyDecoder()
    for event_type, code, value in events:
        line = decoder.feed(event_type, code, value)
        if line:
            yield line


class LineSplitter:
    """Bytes from a serial scanner -> lines; CR, LF and CRLF all end a code."""

    def __init__(self, encoding: str = "latin-1") -> None:
        self._pending = bytearray()
        self._encoding = encoding

    def feed(self, data: bytes) -> list[str]:
        self._pending.extend(data)
        lines: list[str] = []
        while True:
            ends = [at for at in (self._pending.find(b"\r"), self._pending.find(b"\n")) if at >= 0]
            if not ends:
                return lines
            at = min(ends)
            text = bytes(self._pending[:at]).decode(self._encoding).strip()
            del self._pending[: at + 1]
            if text:
                lines.append(text)


class SerialScanner:
    """A scanner on a serial port; iterate to get codes. `stop()` ends the iteration within `poll` seconds."""

    def __init__(self, device: str, baudrate: int = 9600, *, poll: float = 0.2) -> None:
        self.device = device
        self.baudrate = baudrate
        self.poll = poll
        self._port: Any = None
        self._stopped = False

    def open(self) -> SerialScanner:
        import serial

        try:
            self._port = serial.Serial(self.device, self.baudrate, timeout=self.poll)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise ScannerError(f"Serial scanner {self.device} cannot be opened ({exc}).") from None
        return self

    def close(self) -> None:
        if self._port is not None:
            self._port.close()
            self._port = None

    def stop(self) -> None:
        self._stopped = True

    def __enter__(self) -> SerialScanner:
        return self.open() if self._port is None else self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[str]:
        import serial

        if self._port is None:
            self.open()
        splitter = LineSplitter()
        while not self._stopped:
            try:
                data = self._port.read(self._port.in_waiting or 1)
            except (serial.SerialException, OSError) as exc:
                raise ScannerError(f"Serial scanner {self.device} stopped working ({exc}).") from None
            yield from splitter.feed(data)


class EvdevScanner:
    """A HID scanner read from its /dev/input event device, grabbed so no one else sees its keys."""

    def __init__(self, device: str, *, grab: bool = True) -> None:
        self.device = device
        self.grab = grab
        self._input: Any = None

    def open(self) -> EvdevScanner:
        try:
            import evdev
        except ImportError:
            raise ScannerError(
                '[scanner] kind = "evdev" needs the python-evdev package (pip install evdev).'
            ) from None
        try:
            self._input = evdev.InputDevice(self.device)
            if self.grab:
                self._input.grab()
        except OSError as exc:
            self.close()
            raise ScannerError(
                f"Scanner device {self.device} cannot be opened exclusively ({exc})."
            ) from None
        return self

    def close(self) -> None:
        if self._input is None:
            return
        with contextlib.suppress(OSError):
            if self.grab:
                self._input.ungrab()
        self._input.close()
        self._input = None

    def __enter__(self) -> EvdevScanner:
        return self.open() if self._input is None else self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[str]:
        if self._input is None:
            self.open()
        try:
            events = ((e.type, e.code, e.value) for e in self._input.read_loop())
            yield from decode_key_events(events)
        except OSError as exc:
            raise ScannerError(f"Scanner device {self.device} stopped working ({exc}).") from None


def open_scanner(config: Scanner) -> SerialScanner | EvdevScanner | None:
    """The configured device, opened; None for "keyboard" (the caller reads standard input)."""
    if config.kind == "keyboard":
        return None
    if not config.device:
        raise ScannerError(f'[scanner] kind = "{config.kind}" needs [scanner] device, e.g. /dev/ttyACM0.')
    if config.kind == "serial":
        return SerialScanner(config.device, config.baudrate).open()
    return EvdevScanner(config.device).open()


@contextlib.contextmanager
def scanner_lines(config: Scanner, fallback: Callable[[], Iterable[str]]) -> Iterator[Iterable[str]]:
    """Lines from the configured scanner (closed afterwards), or from `fallback` (stdin) for a keyboard wedge."""
    scanner = open_scanner(config)
    if scanner is None:
        yield fallback()
        return
    try:
        yield scanner
    finally:
        scanner.close()
