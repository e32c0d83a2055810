from ledger.archive import Archiver
from ledger.closing import Closer


def end_period(worker: Archiver | Closer, account: str) -> int:
    return worker.close(account)
