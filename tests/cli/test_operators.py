def test_operator_add_and_list(pos) -> None:
    created = pos.json("operator", "add", "anna", "--role", "admin", "--pin", "4711")
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
    bad_pin = pos_sqlite("operator", "add", "kim", "--pin", "12")
    assert bad_pin.returncode == 2
    assert bad_pin.stderr.strip() == "Error: A PIN is 4 to 12 digits."
    bad_role = pos_sqlite("operator", "add", "kim", "--role", "boss", "--pin", "1234")
    assert bad_role.stderr.strip() == "Error: The role must be cashier or admin, not 'boss'."
