"""The plan's JSON Schema: every committed plan validates, it is the one list of keys the loader accepts,
and what only the schema rejects is still reported as one ``file:LINE: key.path: problem`` line."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from ruamel.yaml import YAML

from asyncmigrate.config import plan_schema
from asyncmigrate.config.plan import _FILE_KEYS, _MAPPING_KEYS, _PHASE_KEYS, _TOP_KEYS, _plain, load_plan
from asyncmigrate.errors import PlanError
from tests.corpus import property_tiers

REPO = Path(__file__).resolve().parents[1]
SCHEMA_FILE = REPO / "asyncmigrate" / "schemas" / "plan.schema.json"
COMMITTED = sorted(
    [
        REPO / "migration_plan.yaml",
        *(REPO / "tests" / "assets").glob("*/migration_plan.yaml"),
        *(REPO / "tests" / "data" / "apply").glob("*/before/migration_plan.yaml"),
    ]
)


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = json.loads(SCHEMA_FILE.read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    assert plan_schema.plan_schema() == schema  # what the loader reads is the file in the package


@pytest.mark.parametrize("plan", COMMITTED, ids=lambda p: str(p.relative_to(REPO)))
def test_every_committed_plan_validates(plan: Path) -> None:
    document = _plain(YAML(typ="rt").load(plan.read_text()))
    jsonschema.Draft202012Validator(plan_schema.plan_schema()).validate(document)
    load_plan(plan, check_files=False)


def test_the_loader_accepts_exactly_the_schemas_keys() -> None:
    schema = plan_schema.plan_schema()
    defs = schema["$defs"]
    assert _TOP_KEYS == set(schema["properties"])
    assert _FILE_KEYS == set(defs["file"]["properties"])
    assert _PHASE_KEYS == set(defs["phase"]["properties"])
    assert _MAPPING_KEYS == set(defs["mapping_object"]["properties"])
    # every key the README's plan example documents is one the schema knows
    readme = (REPO / "README.md").read_text()
    example = readme.split("## The plan file: `migration_plan.yaml`", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    documented = YAML(typ="safe").load(example)
    assert set(documented) <= _TOP_KEYS
    jsonschema.Draft202012Validator(schema).validate(documented)


def test_an_unknown_key_lists_the_schemas_keys(edit_plan: Callable[[str, str], Path]) -> None:
    path = edit_plan("source: shop", "source: shop\nsorce: shop")
    with pytest.raises(PlanError) as raised:
        load_plan(path)
    assert str(raised.value) == (
        f"{path}:4: sorce: unknown key (expected one of: {', '.join(sorted(plan_schema.keys('plan')))})"
    )


# What only the schema rejects (the loader's own checks let it through): (old, new, line, message after "file:LINE: ")
SCHEMA_ONLY = {
    "a repository name with a dot": (
        "mappings:\n",
        "  legacy.users: {class: shop.repos.UserRepo, provider: shop.repos.get_user_repo, attribute: legacy}\n"
        "mappings:\n",
        13,
        "repositories.legacy.users: 'legacy.users': a repository name has no dots or spaces"
        " (mappings target it as name.method)",
    ),
    "a facade method name with a dot": (
        "  store_user: user.put\n",
        "  store_user: user.put\n  db.store: user.put\n",
        16,
        "mappings.db.store: 'db.store': a facade method name has no dots or spaces",
    ),
}


@pytest.mark.parametrize("case", sorted(SCHEMA_ONLY))
def test_what_only_the_schema_rejects_is_one_file_line_message(
    case: str, edit_plan: Callable[[str, str], Path]
) -> None:
    old, new, line, message = SCHEMA_ONLY[case]
    path = edit_plan(old, new)
    with pytest.raises(PlanError) as raised:
        load_plan(path)
    assert str(raised.value) == f"{path}:{line}: {message}"


def _document(text: str) -> object:
    return YAML(typ="rt").load(text)


BASE = """\
version: 1
facade:
  factories: [app.db.get_db]
phases:
  - id: 1
    files:
      - path: app/a.py
        effort_minutes: 5
"""


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # a value deep in a list of mappings: the line of its key
        ("effort_minutes: 5", "effort_minutes: -5", "plan.yaml:8: phases[0].files[0].effort_minutes: -5 is less than"),
        # an unknown key: the key's own line
        (
            "effort_minutes: 5",
            "effort_minutes: 5\n        owner: me",
            "plan.yaml:9: phases[0].files[0].owner: unknown key",
        ),
        # a required key missing: the line of the mapping that lacks it
        ("  - id: 1\n", "  - name: first\n", "plan.yaml:5: phases[0]: 'id' is a required property"),
        # a wrong value at the top level
        ("version: 1", "version: 2", "plan.yaml:1: version: 1 was expected"),
    ],
)
def test_schema_errors_are_located_through_the_documents_line_marks(old: str, new: str, expected: str) -> None:
    document = _document(BASE.replace(old, new))
    with pytest.raises(PlanError) as raised:
        plan_schema.validate(document, _plain(document), "plan.yaml")
    assert str(raised.value).startswith(expected), str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_valid_document_passes() -> None:
    document = _document(BASE)
    plan_schema.validate(document, _plain(document), "plan.yaml")


# --- the quick verdict: never "conforms" where jsonschema refuses ------------------------------------------

_SCHEMA = plan_schema.plan_schema()
_JSONSCHEMA = jsonschema.Draft202012Validator(_SCHEMA)
_PLANS = [_plain(YAML(typ="rt").load(plan.read_text())) for plan in COMMITTED]
_KNOWN = plan_schema._ANNOTATIONS | plan_schema._ASSERTIONS | {"type", "$ref", "anyOf", "oneOf", "enum", "const"}


def _keywords(schema: Any, inside_names: bool = False) -> set[str]:
    found: set[str] = set()
    if isinstance(schema, dict):
        for key, value in schema.items():
            if inside_names:
                found |= _keywords(value)
                continue
            found.add(key)
            found |= _keywords(value, inside_names=key in ("properties", "$defs"))
    elif isinstance(schema, list):
        for item in schema:
            found |= _keywords(item)
    return found


def test_the_quick_verdict_knows_every_keyword_of_the_schema() -> None:
    """A keyword it does not know leaves every plan to jsonschema: the schema must use none."""
    assert _keywords(_SCHEMA) <= _KNOWN


@pytest.mark.parametrize("index", range(len(_PLANS)))
def test_every_committed_plan_conforms(index: int) -> None:
    assert plan_schema.conforms(_PLANS[index])


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(-2.5, 2.5, allow_nan=False),
    st.sampled_from([0.0, 1.0, 2.0]),
    st.sampled_from(["", "x", "pending", "low", "all", "pytest", "a.b", "pkg.mod.name", "../up", "/abs", "ok_1"]),
    st.text(max_size=6),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=6,
)


def _paths(value: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [here]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*here, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*here, index))
    return found


def _property_names(schema: Any) -> set[str]:
    names: set[str] = set()
    if isinstance(schema, dict):
        names |= set(schema.get("properties", {}))
        for value in schema.values():
            names |= _property_names(value)
    elif isinstance(schema, list):
        for item in schema:
            names |= _property_names(item)
    return names


_NAMES = sorted(_property_names(_SCHEMA))
# Values on either side of the schema's rarer lines (numbers, unique items, exactly one of two keys),
# which the committed plans seldom hold.
_EDGES = [
    0,
    0.0,
    -1,
    0.5,
    1.5,
    3,
    True,
    ["pytest", "pytest"],
    ["pytest", "unittest"],
    ["a", "a"],
    ["a", "b"],
    [{"at": "a.py:3", "reason": "r"}],
    [{"pattern": "a -> b", "reason": "r"}],
    [{"at": "a.py:3", "pattern": "a -> b", "reason": "r"}],
    [{"reason": "r"}],
    {"fields": {}},
    {"fields": {"a": "b"}},
]


def _neighbours(value: Any) -> list[Any]:
    """Values next to ``value`` across a line the schema draws: an integer's float and bool, a list with
    an item twice, a string that is empty or not one."""
    if isinstance(value, bool):
        return [int(value), not value, None]
    if isinstance(value, int | float):
        return [value + 0.5, float(value), int(value) - 1, True, False, str(value)]
    if isinstance(value, str):
        return ["", value + value, value.upper(), value + "/", 1, None, [value]]
    if isinstance(value, list):
        return [[*value, value[0]] if value else [None], [], {}, value[:1]]
    if isinstance(value, dict):
        return [{}, list(value), {**value, "": None}]
    return [0, "", [], {}]


@st.composite
def _mutated_plans(draw: st.DrawFn) -> Any:
    """A committed plan with one to three changes: a value replaced (by another of the plan's own values,
    which keeps it near valid, or any JSON value), a key or item dropped, or an unknown key added."""
    document = copy.deepcopy(draw(st.sampled_from(_PLANS)))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(document)))
        parent: Any = document
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["replace", "retype", "retype", "borrow", "drop", "add", "add"]))
        if not path:
            document = draw(_VALUES) if action == "replace" else document
            continue
        if action == "replace":
            parent[path[-1]] = draw(_VALUES)
        elif action == "retype":
            parent[path[-1]] = copy.deepcopy(draw(st.sampled_from(_neighbours(parent[path[-1]]))))
        elif action == "borrow":
            donor: Any = draw(st.sampled_from(_PLANS))
            for step in draw(st.sampled_from(_paths(donor))):
                donor = donor[step]
            parent[path[-1]] = copy.deepcopy(donor)
        elif action == "drop":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            name = draw(st.one_of(st.sampled_from(_NAMES), st.text(min_size=1, max_size=6)))
            parent[name] = copy.deepcopy(draw(st.one_of(st.sampled_from(_EDGES), _VALUES)))  # later edits change it
    return document


@property_tiers(1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated_plans())
def test_the_quick_verdict_is_jsonschemas_wherever_it_is_sure(document: Any) -> None:
    valid = _JSONSCHEMA.is_valid(document)
    try:
        quick = plan_schema._satisfies(document, _SCHEMA, _SCHEMA)
    except plan_schema._Unsure:
        assert not plan_schema.conforms(document)  # jsonschema decides
        return
    assert quick == valid
    assert plan_schema.conforms(document) == valid


def test_a_valid_plan_is_validated_without_importing_jsonschema(tmp_path: Path) -> None:
    shutil.copy(REPO / "migration_plan.yaml", tmp_path / "migration_plan.yaml")
    code = (
        "import sys; from pathlib import Path; from asyncmigrate.config.plan import load_plan; "
        f"load_plan(Path({str(tmp_path / 'migration_plan.yaml')!r}), check_files=False); "
        "assert 'jsonschema' not in sys.modules, 'jsonschema was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


_CARAVAN = _plain(YAML(typ="rt").load((REPO / "tests" / "assets" / "caravan" / "migration_plan.yaml").read_text()))


def _at(document: Any, where: tuple[Any, ...], value: Any) -> Any:
    edited = copy.deepcopy(document)
    parent = edited
    for step in where[:-1]:
        parent = parent[step]
    parent[where[-1]] = value
    return edited


_DOUBTS = [
    {"at": "a.py:3", "reason": "r"},
    {"pattern": "a -> b", "reason": "r"},
    {"at": "a.py:3", "pattern": "a -> b", "reason": "r"},
    {"reason": "r"},
    {"at": "a.py:0", "reason": "r"},
    {"at": "a.py:3", "reason": ""},
]
_RARE_LINES = [
    *((("version",), v) for v in (1, 1.0, 2, True, "1")),
    *((("test_timeout",), v) for v in (0, 0.0, -1, 0.001, 1, 1.5, True, "1", None)),
    *((("frameworks",), v) for v in (["pytest", "pytest"], ["pytest", "unittest"], [], None, ["django"], "pytest")),
    *((("phases", 0, "id"), v) for v in (1, 1.0, 1.5, True, "1", None)),
    *((("phases", 0, "files", 0, "effort_minutes"), v) for v in (0, -1, 1.5, 2.0, True)),
    *((("mappings", "assign_wagon", "positional"), v) for v in (["a", "a"], ["a", "b"], ["a", 1], [])),
    *((("mappings", "load_wagon", "pack", "fields"), v) for v in ({}, {"a": "b"}, [], ["a"])),
    *((("accepted_doubts",), [doubt]) for doubt in _DOUBTS),
]


@pytest.mark.parametrize(("where", "value"), _RARE_LINES, ids=repr)
def test_the_quick_verdict_is_jsonschemas_on_the_rarer_lines(where: tuple[Any, ...], value: Any) -> None:
    """The lines of the schema the committed plans hold little of: numbers, unique items, one of two keys."""
    document = _at(_CARAVAN, where, value)
    valid = _JSONSCHEMA.is_valid(document)
    try:
        assert plan_schema._satisfies(document, _SCHEMA, _SCHEMA) == valid
    except plan_schema._Unsure:
        assert not plan_schema.conforms(document)
