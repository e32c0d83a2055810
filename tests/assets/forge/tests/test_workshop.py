from __future__ import annotations

from unittest.mock import MagicMock

import pytest

from forge import workshop
from forge.vault import RECORDS, Vault


async def test_craft_uses_the_blueprint_size() -> None:
    item = await workshop.craft("sword", "ada")
    assert (item.kind, item.owner, item.size) == ("sword", "ada", 3)


async def test_craft_refuses_an_unknown_kind() -> None:
    with pytest.raises(workshop.UnknownKind):
        await workshop.craft("axe", "ada")


async def test_shelve_moves_the_item() -> None:
    item = await workshop.craft("sword", "ada")
    assert await workshop.shelve(item.item_id, "anvil") == "anvil"
    assert RECORDS.items[item.item_id].bench == "anvil"


async def test_size_of() -> None:
    assert await workshop.size_of("sword") == 3
    assert await workshop.size_of("axe") == 0


async def test_tag() -> None:
    item = await workshop.craft("sword", "ada")
    assert await workshop.tag(item.item_id) == f"sword#{item.item_id}"


async def test_holdings_and_report() -> None:
    await workshop.craft("sword", "ada")
    await workshop.craft("sword", "ada")
    assert workshop.holdings("ada") == 2
    assert workshop.report("bob") == "bob holds 0"


def test_spare_has_no_owner() -> None:
    item = workshop.spare("nail")
    assert (item.owner, item.size) == (None, 1)


def test_a_configured_vault_double() -> None:
    # Mock configuration names the facade's methods without calling the vault.
    double = MagicMock(spec=Vault)
    double.fetch_blueprint.return_value = None
    double.bench_of.side_effect = KeyError
    assert double.fetch_blueprint.call_args is None
    assert double.bench_of.called is False
    double.fetch_blueprint.reset_mock()
