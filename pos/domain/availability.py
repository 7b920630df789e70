"""Availability: how many units of an article are left, and whether a cart may take more of them.

The sale screen shows it live and refuses early; the sale itself re-checks with a compare-and-set in the
database (two terminals can never together sell more than the limit). Both use these rules, so the screen
and `pos sell` refuse with the same sentence.
"""

from __future__ import annotations

from pos.errors import Refused


def remaining(limit: int | None, sold: int) -> int | None:
    """Units left; None when the article is unlimited. A limit lowered below the units sold leaves 0."""
    if limit is None:
        return None
    return max(limit - sold, 0)


def shortage(name: str, left: int) -> Refused:
    """The one sentence for a cart that wants more than is left."""
    if left == 0:
        return Refused("{name} is sold out.", name=name)
    return Refused("Only {n} of {name} left.", n=left, name=name)


def check_available(name: str, limit: int | None, sold: int, wanted: int) -> None:
    """Refuse `wanted` units (all the cart holds of this article) when fewer are left."""
    left = remaining(limit, sold)
    if left is not None and wanted > left:
        raise shortage(name, left)


def is_offered(hidden: bool, article_id: int, unlocked: frozenset[int] | set[int]) -> bool:
    """A hidden article (e.g. a VIP category) is offered only once an unlock code for it was entered."""
    return not hidden or article_id in unlocked


def check_offered(name: str, hidden: bool, article_id: int, unlocked: frozenset[int] | set[int]) -> None:
    if not is_offered(hidden, article_id, unlocked):
        raise Refused("{name} is hidden; enter an unlock code for it.", name=name)
