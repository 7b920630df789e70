from textual import events

from pos.screens.scanner import KeyboardWedge, is_scannable


def key(character: str, at: float) -> events.Key:
    event = events.Key(character if character.isalnum() else "enter", character)
    event.time = at
    return event


def test_a_fast_burst_ending_in_enter_is_a_scan() -> None:
    wedge = KeyboardWedge(burst_ms=50)
    for index, digit in enumerate("4006381333931"):
        assert not wedge.interrupts(index * 0.005)
        wedge.hold(key(digit, index * 0.005))
    assert wedge.scan_ending_at(key("\r", 0.07)) == "4006381333931"
    assert [k.character for k in wedge.release()] == list("4006381333931")
    assert wedge.held == []


def test_a_pause_ends_the_burst_and_short_bursts_are_typing() -> None:
    wedge = KeyboardWedge(burst_ms=50)
    wedge.hold(key("1", 0.0))
    assert wedge.interrupts(0.2)  # a person: the held key goes to the focused widget
    wedge.release()
    for index, digit in enumerate("123"):
        wedge.hold(key(digit, 1.0 + index * 0.01))
    assert wedge.scan_ending_at(key("\r", 1.03)) is None  # three keys are no scan
    for index, digit in enumerate("4567"):
        wedge.hold(key(digit, 2.0 + index * 0.01))
    assert wedge.scan_ending_at(key("\r", 2.5)) is None  # Enter came too late


def test_only_printable_characters_are_held() -> None:
    assert is_scannable(events.Key("a", "a"))
    assert is_scannable(events.Key("colon", ":"))
    assert not is_scannable(events.Key("space", " "))
    assert not is_scannable(events.Key("enter", "\r"))
    assert not is_scannable(events.Key("f12", None))
