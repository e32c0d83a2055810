"""The one domain error: the CLI turns it into a one-line message on stderr and exit code 2."""

from __future__ import annotations


class AsyncMigrateError(Exception):
    """A user-facing problem with input (plan, paths, working tree), never a bug in the tool."""


class PlanError(AsyncMigrateError):
    """migration_plan.yaml is malformed; the message names file:line and the key."""
