"""The plan's JSON Schema (``asyncmigrate/schemas/plan.schema.json``): which keys a plan may have, and a
last validation of a loaded plan, reported as ``plan.yaml:LINE: key.path: problem`` like every other
plan mistake.

The schema is the one list of keys: ``plan.py``'s own checks (which give the friendlier messages for
types and values) take their allowed and required keys from it, and editors read it for completion
through a ``# yaml-language-server: $schema=...`` line at the top of the plan.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

from asyncmigrate.errors import PlanError

SCHEMA_NAME = "plan.schema.json"
MODELINE_PREFIX = "# yaml-language-server: $schema="


@functools.cache
def plan_schema() -> dict[str, Any]:
    text = (resources.files("asyncmigrate") / "schemas" / SCHEMA_NAME).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def schema_path() -> Path:
    """Where the installed schema file is (a real file: the package is installed unzipped)."""
    return Path(str(resources.files("asyncmigrate") / "schemas" / SCHEMA_NAME))


def _object(name: str) -> dict[str, Any]:
    schema = plan_schema()
    node: dict[str, Any] = schema if name == "plan" else schema["$defs"][name]
    return node


def keys(name: str) -> frozenset[str]:
    """The keys an object of the plan may have: ``plan`` (the top level), ``facade``, ``repository``,
    ``mapping_object``, ``pack``, ``accepted_doubt``, ``phase`` or ``file``."""
    return frozenset(_object(name)["properties"])


def required_keys(name: str) -> frozenset[str]:
    return frozenset(_object(name).get("required", ()))


def modeline(plan_directory: Path) -> str:
    """The comment line that gives editors (yaml-language-server) the schema of a plan written in
    ``plan_directory``: a path relative to the plan when the installed schema sits under the same
    directory (a development install, a virtual environment inside the project), else absolute."""
    target = schema_path().resolve()
    directory = plan_directory.resolve()
    if target.is_relative_to(directory):
        return MODELINE_PREFIX + target.relative_to(directory).as_posix()
    return MODELINE_PREFIX + str(target)


@functools.cache
def _validator() -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(plan_schema())


def validate(document: Any, plain: Any, filename: str) -> None:
    """Raise PlanError for the most relevant schema violation of ``plain`` (``document`` as plain dicts
    and lists), located through ``document``'s own line marks (ruamel's round-trip containers)."""
    from jsonschema.exceptions import best_match

    error = best_match(_validator().iter_errors(plain))
    if error is None:
        return
    path = list(error.absolute_path)
    key: Any = None
    problem = error.message
    description = error.schema.get("description") if isinstance(error.schema, dict) else None
    if error.validator == "propertyNames" or (error.validator == "pattern" and _names_a_key(error)):
        key = error.instance
        path.append(key)
    elif error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})), key=str)
        if extra:
            key = extra[0]
            path.append(key)
            problem = "unknown key"
    if error.validator == "pattern" and description:
        problem = f"{error.instance!r}: {description}"
    raise PlanError(f"{_location(document, path, filename)}: {_keypath(path) or 'plan'}: {problem}")


def _names_a_key(error: Any) -> bool:
    """A ``pattern`` failure under ``propertyNames``: the instance is a key, not a value."""
    return bool(error.schema_path) and "propertyNames" in list(error.schema_path)


def _keypath(path: Iterable[Any]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".")


def _location(document: Any, path: list[Any], filename: str) -> str:
    """``file:LINE`` of the deepest node on ``path`` that carries a line mark (the key's own line when
    the last step is a mapping key), else ``file``."""
    line: int | None = None
    node = document
    for part in path:
        line = _line(node, part) or line
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
    return f"{filename}:{line}" if line else filename


def _line(node: Any, part: Any) -> int | None:
    lc = getattr(node, "lc", None)
    if lc is None:
        return None
    try:
        if isinstance(part, int) and isinstance(node, list):
            return int(lc.item(part)[0]) + 1
        return int(lc.key(part)[0]) + 1
    except (KeyError, IndexError, TypeError, AttributeError):
        return None
