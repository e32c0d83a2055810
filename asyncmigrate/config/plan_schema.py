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
import re
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
    and lists), located through ``document``'s own line marks (ruamel's round-trip containers).

    A plan that ``conforms`` is valid without jsonschema, whose import alone (44 ms) is a fifth of a
    warm ``scan``; any other plan is judged by jsonschema, which words the error."""
    if conforms(plain):
        return
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


# --- the quick verdict ----------------------------------------------------------------------------------
# Draft 2020-12's assertions for the keywords the plan's schema uses, exactly as jsonschema applies them
# (its type checker, ``re.search`` for ``pattern``, ``bool`` never an ``int``). A case whose outcome is not
# certain here (a keyword not listed, a ``$ref`` outside ``$defs``, ``enum`` or ``uniqueItems`` over
# anything but strings) is left to jsonschema, so "conforms" is never said of a plan jsonschema refuses
# (``tests/test_plan_schema.py`` holds the two verdicts equal on generated plans).

_ANNOTATIONS = frozenset({"$schema", "$id", "$defs", "$comment", "title", "description", "default", "examples"})


class _Unsure(Exception):
    """The quick verdict cannot be certain: jsonschema decides."""


def conforms(instance: Any) -> bool:
    """Does ``instance`` (a plan as plain dicts and lists) certainly satisfy the plan's schema?"""
    schema = plan_schema()
    try:
        return _satisfies(instance, schema, schema)
    except _Unsure:
        return False


def _is_type(instance: Any, kind: str) -> bool:
    if kind == "object":
        return isinstance(instance, dict)
    if kind == "array":
        return isinstance(instance, list)
    if kind == "string":
        return isinstance(instance, str)
    if kind == "boolean":
        return isinstance(instance, bool)
    if kind == "null":
        return instance is None
    if isinstance(instance, bool):
        return False
    if kind == "integer":
        return isinstance(instance, int) or (isinstance(instance, float) and instance.is_integer())
    if kind == "number":
        return isinstance(instance, int | float)
    raise _Unsure(kind)


def _equal(instance: Any, value: Any) -> bool:
    """jsonschema's equality for a scalar ``value`` (``enum``, ``const``): a string equals only an equal
    string, a number an equal number (``1 == 1.0``), never a ``bool``."""
    if isinstance(instance, str) or isinstance(value, str):
        return bool(instance == value)
    numbers = (instance, value)
    if all(isinstance(n, int | float) and not isinstance(n, bool) for n in numbers):
        return bool(instance == value)
    if instance is None and value is None:
        return True
    raise _Unsure("enum or const beyond strings and numbers")


def _satisfies(instance: Any, schema: Any, root: dict[str, Any]) -> bool:
    if schema is True or schema is False:
        return schema
    if not isinstance(schema, dict):
        raise _Unsure("a schema that is not an object")
    for keyword, value in schema.items():
        if keyword in _ANNOTATIONS:
            continue
        if not _keyword_holds(keyword, value, instance, schema, root):
            return False
    return True


def _keyword_holds(keyword: str, value: Any, instance: Any, schema: dict[str, Any], root: dict[str, Any]) -> bool:
    if keyword == "type":
        return any(_is_type(instance, kind) for kind in (value if isinstance(value, list) else [value]))
    if keyword == "$ref":
        if not (isinstance(value, str) and value.startswith("#/$defs/") and value.count("/") == 2):
            raise _Unsure(value)
        return _satisfies(instance, root["$defs"][value.rpartition("/")[2]], root)
    if keyword == "anyOf":
        return any(_satisfies(instance, branch, root) for branch in value)
    if keyword == "oneOf":
        return sum(1 for branch in value if _satisfies(instance, branch, root)) == 1
    if keyword == "enum":
        return any(_equal(instance, option) for option in value)
    if keyword == "const":
        return _equal(instance, value)
    if isinstance(instance, dict):
        return _object_keyword_holds(keyword, value, instance, schema, root)
    if isinstance(instance, list):
        if keyword == "items":
            if "prefixItems" in schema:
                raise _Unsure(keyword)
            return all(_satisfies(item, value, root) for item in instance)
        if keyword == "minItems":
            return bool(len(instance) >= value)
        if keyword == "uniqueItems":
            if not value:
                return True
            if not all(isinstance(item, str) for item in instance):
                raise _Unsure(keyword)
            return len(set(instance)) == len(instance)
    elif isinstance(instance, str):
        if keyword == "pattern":
            return re.search(value, instance) is not None
        if keyword == "minLength":
            return bool(len(instance) >= value)
    elif isinstance(instance, int | float) and not isinstance(instance, bool):
        if keyword == "minimum":
            return bool(instance >= value)
        if keyword == "exclusiveMinimum":
            return bool(instance > value)
    if keyword in _ASSERTIONS:
        return True  # an assertion about another type of instance holds
    raise _Unsure(keyword)


def _object_keyword_holds(
    keyword: str, value: Any, instance: dict[str, Any], schema: dict[str, Any], root: dict[str, Any]
) -> bool:
    if keyword == "properties":
        return all(_satisfies(instance[name], sub, root) for name, sub in value.items() if name in instance)
    if keyword == "required":
        return all(name in instance for name in value)
    if keyword == "additionalProperties":
        if "patternProperties" in schema:
            raise _Unsure(keyword)
        known = schema.get("properties", {})
        return all(_satisfies(item, value, root) for name, item in instance.items() if name not in known)
    if keyword == "propertyNames":
        return all(_satisfies(name, value, root) for name in instance)
    if keyword == "minProperties":
        return bool(len(instance) >= value)
    if keyword in _ASSERTIONS:
        return True
    raise _Unsure(keyword)


# The assertions above; each holds of an instance of a type it does not speak of.
_ASSERTIONS = frozenset(
    {"properties", "required", "additionalProperties", "propertyNames", "minProperties"}
    | {"items", "minItems", "uniqueItems", "pattern", "minLength", "minimum", "exclusiveMinimum"}
)
