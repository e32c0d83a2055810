"""The application: one store for the process, kept on the app's state."""

from __future__ import annotations

from fastapi import FastAPI

from caravan.api import router
from caravan.store import Store, open_store


def create_app(store: Store | None = None) -> FastAPI:
    app = FastAPI()
    app.state.store = store if store is not None else open_store()
    app.include_router(router)
    return app
