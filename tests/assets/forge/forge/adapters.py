"""The team's own glue where the repositories' API differs from the vault's by more than names."""

from __future__ import annotations

from forge.repos import ItemRepo


async def count_owned(items: ItemRepo, owner: str) -> int:
    """The vault counted in the database; the repository lists, so count here."""
    return len(await items.owned_by(owner))
