from __future__ import annotations

import pytest

from forge.vault import RECORDS, Blueprint


@pytest.fixture(autouse=True)
def records() -> None:
    RECORDS.blueprints.clear()
    RECORDS.items.clear()
    RECORDS.moves.clear()
    RECORDS.blueprints["sword"] = Blueprint("sword", 3)
