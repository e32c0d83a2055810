from ledger.archive import Archiver
from ledger.batch import Journal, run_batch
from ledger.books import recorded
from ledger.closing import Closer
from ledger.dispatch import Simulator, perform
from ledger.period import end_period
from ledger.postings import Poster
from ledger.transfers import Transfers


def test_poster_records() -> None:
    Poster().post("cash", 4)
    assert recorded() == [4]


def test_batch_posts_to_a_journal() -> None:
    journal = Journal()
    assert run_batch(journal, [("cash", 1), ("bank", 2)]) == 2
    assert journal.lines == [("cash", 1), ("bank", 2)]


def test_transfer_moves() -> None:
    Transfers().move("cash", "bank", 5)
    assert recorded() == [-5, 5]


def test_perform_on_a_simulator() -> None:
    simulator = Simulator()
    perform(simulator, ("cash", "bank", 1))
    assert simulator.moves == [("cash", "bank", 1)]


def test_closer_counts() -> None:
    assert Closer().close("cash") == 0


def test_end_period_with_an_archiver() -> None:
    assert end_period(Archiver(), "cash") == 0
