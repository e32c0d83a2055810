from depot.api import order_report
from depot.console import Console
from depot.handlers import handle
from depot.router import route
from depot.service import OrderService


def test_console_runs_every_operation():
    console = Console(OrderService())
    assert console.run(["open_order", "close_order"], 7) == ["open 7", "closed 7"]


def test_handlers_price_and_tax():
    assert handle("price_order", 1234) == 10
    assert handle("tax_order", 1234) == 2


def test_router_ships():
    assert route("ship_order", 5) == "shipped 5"


async def test_order_report():
    report = await order_report()
    assert report["total"] >= 1
    assert 99 in report["audited"]
