from guild.courier import deliver
from guild.ledger import Member, open_ledger
from guild.reports import northerners, roll_call, size


async def test_reports_read_the_process_wide_ledger() -> None:
    records = open_ledger().records
    records.members.clear()
    records.members["r1"] = Member("r1", "Brom", hall="north")
    records.members["r2"] = Member("r2", "Cael", hall="south")
    assert await roll_call(["r1", "zz"]) == ["Brom", "?"]
    assert await roll_call([]) == []
    assert northerners(["r1", "r2"]) == 1
    assert size() == 2


def test_the_courier_is_no_ledger() -> None:
    assert deliver("r1") == "a letter for r1"
