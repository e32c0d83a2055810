from warehouse.shutdown import flush_on_exit


def test_flush() -> None:
    assert flush_on_exit() == 1
