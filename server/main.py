"""The FastAPI application: ``uvicorn server.main:app``.

Start-up creates any missing tables, seeds the shipped rooms and professions, loads the room cache
and publishes the process-wide facade and event bus on ``app.state`` for the routes that read them
from the request.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from starlette.concurrency import run_in_threadpool

from server.api.containers import router as containers_router
from server.api.monitoring import router as monitoring_router
from server.api.players import router as players_router
from server.api.real_time import router as real_time_router
from server.api.rooms import router as rooms_router
from server.async_persistence import AsyncPersistenceLayer
from server.auth.endpoints import router as auth_router
from server.config import get_database_settings
from server.db import create_schema
from server.events import get_event_bus
from server.persistence import get_persistence
from server.world import get_room_cache, seed_world

logger = logging.getLogger(__name__)


def _prepare_database() -> int:
    create_schema()
    seed_world()
    return get_room_cache().load()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Schema creation and seeding are sync; keep them off the event loop.
    room_count = await run_in_threadpool(_prepare_database)
    event_bus = get_event_bus()
    app.state.event_bus = event_bus
    app.state.persistence = get_persistence(event_bus)
    logger.info("server ready: %d rooms on %s", room_count, get_database_settings().backend)
    yield
    await event_bus.drain()


def create_app() -> FastAPI:
    application = FastAPI(title="Arkham MUD server", version="1.0.0", lifespan=lifespan)
    for router in (
        players_router,
        rooms_router,
        containers_router,
        monitoring_router,
        real_time_router,
        auth_router,
    ):
        application.include_router(router)

    @application.get("/api/ping", tags=["monitoring"])
    async def ping() -> dict[str, str]:
        """Is the process serving requests at all. Touches no database (``/health`` does), so its
        latency is the event loop's responsiveness and nothing else."""
        return {"status": "ok"}

    @application.get("/health", tags=["monitoring"])
    async def health(request: Request) -> dict[str, Any]:
        """Liveness and readiness: is the database answering, are the rooms loaded."""
        database_ok = await AsyncPersistenceLayer().ping()
        return {
            "status": "ok" if database_ok else "degraded",
            "database": get_database_settings().backend,
            "database_ok": database_ok,
            "rooms": len(get_room_cache()),
        }

    return application


app = create_app()
