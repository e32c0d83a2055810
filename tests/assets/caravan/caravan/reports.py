"""Reports: module functions that open the process-wide store themselves."""

from __future__ import annotations

from caravan.store import open_store


def manifest_counts(wagon_ids: list[int]) -> dict[int, int]:
    store = open_store()
    return {wagon_id: store.manifest_size(wagon_id) for wagon_id in wagon_ids}


def restock(wagon_id: int, goods: str) -> int:
    store = open_store()
    store.record_manifest(wagon_id, goods, 1)
    return store.manifest_size(wagon_id)
