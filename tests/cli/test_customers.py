"""`pos customer add|list|import` through the real console script."""

from __future__ import annotations

from pathlib import Path


def test_add_list_import(pos_sqlite, tmp_path: Path) -> None:
    added = pos_sqlite.json(
        "customer", "add", "Anna", "--email", "anna@example.org", "--birthday", "1990-05-17"
    )
    assert (
        added["name"] == "Anna" and added["email"] == "anna@example.org" and added["birthday"] == "1990-05-17"
    )
    assert set(added) == {"id", "name", "email", "phone", "birthday", "created_at"}

    bad = pos_sqlite("customer", "add", "Bob", "--email", "bob@example")
    assert bad.returncode == 2
    assert bad.stderr.startswith("Error: E-mail address 'bob@example' is not valid")
    assert bad.stderr.count("\n") == 1

    csv = tmp_path / "in.csv"
    csv.write_text("name,email,phone,birthday\nBen,ben@example.org,,\nCem,cem@,,\n", encoding="utf-8")
    refused = pos_sqlite("customer", "import", str(csv))
    assert refused.returncode == 2 and "Line 3 of the CSV file" in refused.stderr

    csv.write_text("name,email,phone,birthday\nBen,ben@example.org,,\nCem,,0171,\n", encoding="utf-8")
    imported = pos_sqlite.json("customer", "import", str(csv))
    assert [c["name"] for c in imported] == ["Ben", "Cem"]
    listed = pos_sqlite.json("customer", "list")
    assert [c["name"] for c in listed] == ["Anna", "Ben", "Cem"]
    assert "Anna" in pos_sqlite("customer", "list", check=True).stdout
