"""HTTP endpoints: the store comes from the application's state or from a dependency."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request

from caravan.dispatch import Dispatcher
from caravan.store import Store, open_store

router = APIRouter()


@router.get("/wagons/{wagon_id}")
async def read_wagon(wagon_id: int, request: Request) -> dict[str, object]:
    wagon = request.app.state.store.get_wagon(wagon_id)
    if wagon is None:
        raise HTTPException(status_code=404)
    return {"capacity": wagon.capacity, "load": wagon.load, "route": wagon.route_id}


@router.get("/traders/{name}")
async def read_trader(name: str, store: Store = Depends(open_store)) -> dict[str, object]:
    trader = store.find_trader(name)
    if trader is None:
        raise HTTPException(status_code=404)
    return {"name": trader.name, "purse": trader.purse}


@router.get("/routes/{origin}/{destination}")
async def read_route(origin: str, destination: str, request: Request) -> dict[str, int]:
    store = request.app.state.store
    return {"leagues": await store.route_distance_async(origin, destination)}


@router.post("/wagons/{wagon_id}/dispatch")
async def dispatch(wagon_id: int, route_id: str, origin: str, destination: str, request: Request) -> dict[str, int]:
    dispatcher = Dispatcher(request.app.state.store)
    return {"days": dispatcher.dispatch(wagon_id, route_id, origin, destination)}


@router.post("/maintenance/compact", status_code=204)
def compact(request: Request) -> None:
    request.app.state.store.vacuum()  # no async counterpart: stays on the store, reported as unmapped
