from guild.dues import DuesCollector
from guild.ledger import Member

from tests.fakes import FakeLedger


async def test_dues_follow_the_rank_read_from_the_given_ledger() -> None:
    ledger = FakeLedger(Member("m1", "Ada", rank=3))
    collector = DuesCollector(ledger, rate=5)
    assert await collector.dues_for("m1") == 15
    assert ledger.reached and set(ledger.reached) <= {"fetch_member", "members"}


async def test_promotion_is_saved_in_the_given_ledger() -> None:
    ledger = FakeLedger(Member("m1", "Ada", rank=1, hall="south"))
    collector = DuesCollector(ledger)
    assert (await collector.promote("m1")).rank == 2
    assert ledger.records.members["m1"].rank == 2
    assert collector.hall("m1") == "south"
    assert collector.hall("nobody") == "no hall"
