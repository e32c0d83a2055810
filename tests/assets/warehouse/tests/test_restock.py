from warehouse.restock import restock_plan


def test_restock_plan() -> None:
    assert restock_plan("pear") == 10
    assert restock_plan("apple") == 7
