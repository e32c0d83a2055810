from guild.ledger import Member, Quest
from guild.quests import QuestPosting, member_title

from tests.fakes import FakeLedger


def test_a_posting_lists_the_quests_the_member_may_take() -> None:
    ledger = FakeLedger(Member("m1", "Ada", rank=2), quests=(Quest("rats", 1), Quest("dragon", 9)))
    assert QuestPosting(ledger, "m1").eligible() == ["rats"]
    assert QuestPosting(ledger, "nobody").eligible() == []
    assert "open_quests" in ledger.reached or "quests" in ledger.reached


def test_member_title_reads_the_ledger_passed_in() -> None:
    ledger = FakeLedger(Member("m1", "Ada", hall="east"))
    assert member_title(ledger, "m1") == "Ada of the east hall"
    assert member_title(ledger, "m2") == "nobody"
