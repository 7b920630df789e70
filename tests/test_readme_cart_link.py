"""The README's cart link snippet (standard library only) produces links this system accepts."""

from __future__ import annotations

import contextlib
import io
import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from pos.domain.cart_link import LinkLine, parse_link

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_snippet() -> str:
    section = README.read_text(encoding="utf-8").split("### Cart links", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "README has no python snippet in its Cart links section"
    return match.group(1)


def test_readme_snippet_makes_a_valid_link() -> None:
    namespace: dict[str, object] = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(readme_snippet(), "README.md", "exec"), namespace)  # noqa: S102 - our own documentation
    url = out.getvalue().strip()
    link = parse_link(url, b"the shared secret", datetime(2027, 1, 1, tzinfo=UTC), ZoneInfo("Europe/Berlin"))
    assert link.id == "shop-order-4711"
    assert link.lines == (LinkLine("Konzert 15.01.2027", 2),)
    assert (link.customer_name, link.customer_email) == ("Anna Müller", "anna@example.org")
    assert link.expires_at == datetime(2027, 1, 15, 17, 0, tzinfo=UTC)
    make = namespace["cart_link"]
    assert callable(make)
    promo = make(
        "the shared secret", "x1", "2027-01-02T00:00:00Z", [{"article_id": 3, "qty": 1}], promo="LINK10"
    )
    parsed = parse_link(
        promo, b"the shared secret", datetime(2027, 1, 1, tzinfo=UTC), ZoneInfo("Europe/Berlin")
    )
    assert parsed.promo == "LINK10" and parsed.lines == (LinkLine(3, 1),)
