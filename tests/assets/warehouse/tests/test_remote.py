from warehouse.remote import reorder_amount


def test_reorder() -> None:
    assert reorder_amount("pear") == 10
    assert reorder_amount("apple") == 0
