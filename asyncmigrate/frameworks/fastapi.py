"""FastAPI: what its dependency injection and its application state mean for a migration.

An endpoint receives the facade through a ``Depends(factory)`` parameter default (or
``Annotated[X, Depends(factory)]``) or reads it from ``request.app.state``; FastAPI awaits a coroutine
function given to ``Depends``/``Security`` and to its route decorators, so those may turn async. A
repository the plan reaches ``from_received: depends`` is threaded through a new ``Depends(provider)``
parameter.
"""

from __future__ import annotations

NAME = "fastapi"

DEPENDS = "Depends"
DEPENDS_CALLABLES = frozenset({"fastapi.Depends", "fastapi.params.Depends"})
# Callables that accept a coroutine function as well as a plain one: FastAPI awaits what it is given.
ASYNC_CALLBACKS = DEPENDS_CALLABLES | {"fastapi.Security"}
# Route decorators (``@router.get(...)``) register the endpoint and return it unchanged.
ASYNC_AWARE_DECORATOR_PREFIXES = (
    "fastapi.APIRouter.",
    "fastapi.FastAPI.",
    "fastapi.routing.APIRouter.",
    "fastapi.applications.FastAPI.",
)
# ``request.app.state.<name>`` / ``app.state.<name>``: the attribute application state hangs from
APP_STATE = "state"
# What the plan's ``from_received: depends`` asks of the code: what is received this way, and how
DEPENDS_RECEIVED_ONLY = "threads a dependency through FastAPI endpoints only"


def is_depends_name(name: str | None) -> bool:
    """``Depends`` as written at a call (``Depends(...)`` or ``fastapi.Depends(...)``): the last name."""
    return name == DEPENDS


def dependency_default(provider: str) -> str:
    """The default of a new dependency parameter: ``Depends(provider)``."""
    return f"{DEPENDS}({provider})"


def annotated_dependency(class_name: str, provider: str) -> str:
    """The annotation of a new dependency parameter in the ``Annotated`` style."""
    return f"Annotated[{class_name}, {dependency_default(provider)}]"
