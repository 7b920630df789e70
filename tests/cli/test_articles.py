ARTICLE_FIELDS = {
    "id",
    "name",
    "price_cents",
    "vat",
    "group",
    "shop_group",
    "assortment",
    "ticket",
    "hidden",
    "limit",
    "available",
    "sold_out",
    "valid_from",
    "valid_until",
    "event_date",
    "repeat",
    "repeat_limit",
}


def test_add_list_and_set_availability(pos) -> None:
    added = pos.json(
        "article",
        "add",
        "Konzert 15.01.2027",
        "--price",
        "49.90",
        "--vat",
        "7",
        "--group",
        "Tickets",
        "--shop-group",
        "Events",
        "--ticket",
        "--available",
        "2",
        "--event-date",
        "2027-01-15",
    )
    assert set(added) == ARTICLE_FIELDS
    assert added["price_cents"] == 4990 and added["vat"] == 7
    assert added["limit"] == 2 and added["available"] == 2 and not added["sold_out"]
    assert added["event_date"] == "2027-01-15" and added["repeat"] == "none"

    card = pos.json(
        "article",
        "add",
        "10-ride card",
        "--price",
        "80",
        "--ticket",
        "--repeat",
        "anytime",
        "--repeat-limit",
        "9",
        "--valid-from",
        "2027-01-01T00:00",
        "--valid-until",
        "2027-12-31T23:59",
    )
    assert card["repeat_limit"] == 9 and card["limit"] is None and card["available"] is None
    assert card["valid_from"] == "2027-01-01T00:00:00+01:00"

    listed = pos.json("article", "list")
    assert [a["name"] for a in listed] == ["Konzert 15.01.2027", "10-ride card"] or len(listed) == 2

    by_id = pos.json("article", "set-availability", f"#{added['id']}", "0")
    assert by_id["sold_out"] is True and by_id["available"] == 0
    unlimited = pos.json("article", "set-availability", "Konzert 15.01.2027", "unlimited")
    assert unlimited["limit"] is None and unlimited["sold_out"] is False


def test_errors_are_one_sentence(pos) -> None:
    pos("article", "add", "Beer", "--price", "4.50", check=True)
    for args, needle in [
        (("article", "add", "Beer", "--price", "4.50"), "already exists"),
        (("article", "add", "Wine", "--price", "abc"), "--price"),
        (("article", "add", "Wine", "--price", "1.005"), "fractions of a cent"),
        (("article", "add", "Wine", "--price", "5", "--repeat", "weekly", "--ticket"), "repeat"),
        (("article", "set-availability", "Nope", "3"), "does not exist"),
        (("article", "set-availability", "Beer", "three"), "whole number"),
    ]:
        result = pos(*args)
        assert result.returncode != 0, args
        assert needle in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr


def test_default_groups_in_the_venue_language_and_stable_group_positions(pos, config_file) -> None:
    """Issue 16 problem 7: no English "Events"/"General" in a German venue, and a new group never moves a key."""
    config_file.write_text(
        config_file.read_text(encoding="utf-8").replace('language = "en"', 'language = "de"'),
        encoding="utf-8",
    )
    drink = pos.json("article", "add", "Wasser", "--price", "2.50", "--shop-group", "Getränke")
    ticket = pos.json("article", "add", "Lesung 12.01.2027", "--price", "15", "--ticket")
    voucher = pos.json("article", "add", "Gutschein", "--price", "10")
    assert (ticket["group"], ticket["shop_group"]) == ("Allgemein", "Veranstaltungen")
    assert (voucher["group"], voucher["shop_group"]) == ("Allgemein", "Allgemein")
    assert drink["shop_group"] == "Getränke"
    pos("article", "add", "Aperol", "--price", "7.50", "--shop-group", "Bar", check=True)
    groups = pos.json("article", "groups")
    assert [g["name"] for g in groups] == ["Getränke", "Veranstaltungen", "Allgemein", "Bar"]  # as created
    moved = pos.json("article", "group-position", "Bar", "1")
    assert [(g["name"], g["position"]) for g in moved] == [
        ("Bar", 1),
        ("Getränke", 2),
        ("Veranstaltungen", 3),
        ("Allgemein", 4),
    ]
    listed = [a["name"] for a in pos.json("article", "list")]
    assert listed == ["Aperol", "Wasser", "Lesung 12.01.2027", "Gutschein"]  # sale-screen order
    missing = pos("article", "group-position", "Kiosk", "2")
    assert missing.returncode == 2 and "Shop group 'Kiosk' does not exist." in missing.stderr
