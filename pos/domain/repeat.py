"""Repeat options of a ticket: when it may be accepted again and how often."""

from __future__ import annotations

from pos.domain.values import MAX_COUNT, ascii_whole, shown

REPEAT_TYPES = ("none", "anytime", "daily", "same-day")


def parse_repeat(repeat: str, limit: str | None) -> tuple[str, int | None]:
    """('daily', None) -> ('daily', None) = unlimited; ('none', _) -> single use; limit is re-entries after the first."""
    kind = repeat.strip().lower()
    if kind not in REPEAT_TYPES:
        raise ValueError(f"repeat type {shown(repeat)} is not one of {', '.join(REPEAT_TYPES)}")
    if kind == "none":
        return "none", None
    if limit is None or limit.strip().lower() == "unlimited":
        return kind, None
    count = ascii_whole(limit.strip())
    if count is None:
        raise ValueError(f"repeat limit {shown(limit)} is not a whole number or 'unlimited'")
    if count > MAX_COUNT:
        raise ValueError(f"repeat limit {shown(limit)} is more than {MAX_COUNT}")
    return kind, count


def total_entries(repeat: str, repeat_limit: int | None) -> int | None:
    """How many entries in all (None: unlimited). A 10-ride card is limit 9: 10 entries."""
    if repeat == "none":
        return 1
    return None if repeat_limit is None else repeat_limit + 1


def limit_json(repeat: str, repeat_limit: int | None) -> int | str | None:
    """repeat_limit as JSON shows it: null for single use, "unlimited", or N."""
    if repeat == "none":
        return None
    return "unlimited" if repeat_limit is None else repeat_limit
