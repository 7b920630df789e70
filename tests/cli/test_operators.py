import json


def test_operator_add_and_list(pos) -> None:
    created = json.loads(
        pos(
            "operator", "add", "anna", "--role", "admin", "--pin-stdin", "--json", input="4711\n", check=True
        ).stdout
    )
    assert created["name"] == "anna" and created["role"] == "admin"
    assert "pin" not in str(created).lower()
    listed = pos.json("operator", "list")
    assert [(o["name"], o["role"]) for o in listed] == [("anna", "admin")]


def test_operator_add_prompts_for_pin_twice(pos_sqlite) -> None:
    done = pos_sqlite("operator", "add", "kim", input="2468\n2468\n")
    assert done.returncode == 0, done.stderr
    assert "2468" not in done.stdout
    mismatch = pos_sqlite("operator", "add", "lee", input="1111\n2222\n")
    assert mismatch.returncode != 0
    assert [o["name"] for o in pos_sqlite.json("operator", "list")] == ["kim"]


def test_operator_errors_are_one_sentence(pos_sqlite) -> None:
    bad_pin = pos_sqlite("operator", "add", "kim", "--pin-stdin", input="12\n")
    assert bad_pin.returncode == 2
    assert bad_pin.stderr.strip() == "Error: A PIN is 4 to 12 digits."
    bad_role = pos_sqlite("operator", "add", "kim", "--role", "boss", "--pin-stdin", input="1234\n")
    assert bad_role.stderr.strip() == "Error: The role must be cashier or admin, not 'boss'."


def test_a_pin_is_never_a_command_line_argument(pos_sqlite) -> None:
    refused = pos_sqlite("operator", "add", "kim", "--pin", "1234")
    assert refused.returncode == 2
    assert [o["name"] for o in pos_sqlite.json("operator", "list")] == []


def test_set_pin_from_stdin(pos_sqlite) -> None:
    pos_sqlite("operator", "add", "kim", "--pin-stdin", input="2468\n", check=True)
    changed = pos_sqlite("operator", "set-pin", "kim", "--pin-stdin", input="13579\n")
    assert changed.returncode == 0, changed.stderr
    empty = pos_sqlite("operator", "set-pin", "kim", "--pin-stdin", input="")
    assert empty.returncode == 2
    assert empty.stderr.strip() == "Error: No PIN on standard input (--pin-stdin reads one line)."
