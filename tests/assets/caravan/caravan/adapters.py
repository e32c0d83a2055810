"""Glue where the manifest repository's API differs from the store's by more than names."""

from __future__ import annotations

from caravan.repos import ManifestRepo


async def total_weight(manifests: ManifestRepo, wagon_id: int) -> int:
    """The store summed in SQL; the repository lists the entries, so sum here."""
    return sum(entry.weight for entry in await manifests.entries(wagon_id))
