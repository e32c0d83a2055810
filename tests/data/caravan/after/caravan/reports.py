"""Reports: module functions that open the process-wide store themselves."""

from __future__ import annotations

from caravan.repos import manifest_repo


def manifest_counts(wagon_ids: list[int]) -> dict[int, int]:
    manifests = manifest_repo()
    return {wagon_id: manifests.count(wagon_id) for wagon_id in wagon_ids}


async def restock(wagon_id: int, goods: str) -> int:
    manifests = manifest_repo()
    await manifests.record(wagon_id, goods, 1)
    return manifests.count(wagon_id)
