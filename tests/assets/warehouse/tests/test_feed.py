from warehouse.feed import level_of, levels


def test_feed() -> None:
    assert list(levels(["apple", "pear"])) == [5, 0]
    assert level_of("plum") == 3
