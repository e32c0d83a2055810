from warehouse.labels import banner, shelf_label
from warehouse.timing import LOG


def test_labels() -> None:
    LOG.clear()
    assert shelf_label("plum") == "plum @ 0.50"
    assert banner() == "WAREHOUSE"
    assert LOG == ["shelf_label", "banner"]
