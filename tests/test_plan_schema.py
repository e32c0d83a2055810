"""The plan's JSON Schema: every committed plan validates, it is the one list of keys the loader accepts,
and what only the schema rejects is still reported as one ``file:LINE: key.path: problem`` line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML

from asyncmigrate.config import plan_schema
from asyncmigrate.config.plan import _FILE_KEYS, _MAPPING_KEYS, _PHASE_KEYS, _TOP_KEYS, _plain, load_plan
from asyncmigrate.errors import PlanError

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
