from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from asyncmigrate.config.plan import load_plan, record_status
from asyncmigrate.errors import PlanError
from asyncmigrate.types import FileStatus


@pytest.fixture(autouse=True)
def _shop_without_from_received(edit_plan: Callable[[str, str], Path]) -> None:
    """These cases write the user repository's reach themselves: start from a plan that gives none."""
    edit_plan(", from_received: 'attribute:users'}", "}")


def test_loads_the_shop_plan(shop: Path) -> None:
    plan = load_plan(shop / "migration_plan.yaml")
    assert plan.facade.factories == ("shop.db.get_db",)
    assert plan.repositories["user"].attribute == "user_repo"
    assert plan.mappings["fetch_user"].target == "user.find"
    assert plan.unmapped == ("vacuum",)
    assert [p.id for p in plan.phases] == [1, 2]
    assert [e.path for e in plan.entries()] == ["shop/handlers.py", "shop/service.py", "tests/test_service.py"]
    assert plan.async_aware_decorators == ()


def test_async_aware_decorators_are_read(edit_plan: Callable[[str, str], Path]) -> None:
    path = edit_plan("source: shop", "source: shop\nasync_aware_decorators: [atexit.register, app.deco.traced]")
    assert load_plan(path).async_aware_decorators == ("atexit.register", "app.deco.traced")


# Each malformed plan: (old text, new text, expected line, text the message must contain)
MALFORMED = {
    "unknown top-level key": ("source: shop", "source: shop\nsorce: shop", 4, "sorce: unknown key"),
    "unknown nested key": (
        "receiver_names: [db]",
        "receiver_names: [db]\n  recievers: [x]",
        11,
        "facade.recievers: unknown key",
    ),
    "wrong type": (
        "effort_minutes: 10, risk: low, repositories: [user], status: pending, history: []}\n  - id: 2",
        "effort_minutes: ten, risk: low, repositories: [user], status: pending, history: []}\n  - id: 2",
        24,
        "effort_minutes: must be an integer, got str",
    ),
    "mapping to a missing repository": (
        "fetch_user: user.find",
        "fetch_user: users.find",
        14,
        "mappings.fetch_user: repository 'users' does not exist",
    ),
    "empty test command": ("test_command: [python, -m, pytest, -q]", "test_command: []", 5, "test_command: is empty"),
    "empty program name": ("test_command: [python, -m, pytest, -q]", "test_command: ['', -q]", 5, "program name"),
    "a path outside the plan's directory": (
        "path: shop/service.py",
        "path: ../outside/service.py",
        28,
        "'../outside/service.py' must be a file inside the plan's directory",
    ),
    "an absolute path": ("path: shop/service.py", "path: /etc/hosts", 28, "must be a file inside"),
    "a path not in normal form": ("path: shop/service.py", "path: ./shop/service.py", 28, "as 'shop/service.py'"),
    "an alias": ("classes: [shop.db.Database]", "classes: &c [shop.db.Database]\n  methods: *c", 9, "(&c)"),
    "bad status": (
        "status: pending, history: []}\n  - id: 2",
        "status: done, history: []}\n  - id: 2",
        24,
        "'done' is not one of pending",
    ),
    "async-aware decorator not a dotted name": (
        "source: shop",
        "source: shop\nasync_aware_decorators: [atexit.register, 'not a name']",
        4,
        "async_aware_decorators[1]: must be a dotted name",
    ),
    "async-aware decorators not a list": (
        "source: shop",
        "source: shop\nasync_aware_decorators: atexit.register",
        4,
        "async_aware_decorators: must be a list",
    ),
    "missing required key": ("version: 1\n", "", 2, "version: required key is missing"),
    "file listed twice": ("path: tests/test_service.py", "path: shop/service.py", 29, "already listed in phase 2"),
    "from_received depends without a provider": (
        "provider: shop.repos.get_user_repo, attribute: user_repo,",
        "attribute: user_repo, from_received: depends,",
        12,
        "repositories.user.from_received: `depends` needs the repository's `provider`",
    ),
    "repository reachable neither way": (
        "provider: shop.repos.get_user_repo, attribute: user_repo,",
        "attribute: user_repo,",
        12,
        "repositories.user: needs `provider` (for code that obtains the facade), `from_received`, or both",
    ),
    "from_received of an unknown kind": (
        "attribute: user_repo,",
        "attribute: user_repo, from_received: injected,",
        12,
        "repositories.user.from_received: 'injected' is not one of: itself, attribute:<dotted.path>, depends",
    ),
    "from_received attribute path that is no path": (
        "attribute: user_repo,",
        "attribute: user_repo, from_received: 'attribute:users.',",
        12,
        "the attribute path must be dotted identifiers",
    ),
    # The parser notices the unclosed bracket on the line after it.
    "invalid YAML": ("  - id: 2\n", "  - id: [2\n", 26, "invalid YAML"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_plan_names_file_line_and_key(case: str, edit_plan: Callable[[str, str], Path]) -> None:
    old, new, line, fragment = MALFORMED[case]
    path = edit_plan(old, new)
    with pytest.raises(PlanError) as raised:
        load_plan(path)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"{path}:{line}:"), message
    assert fragment in message


@pytest.mark.parametrize(
    ("spec", "provider", "from_received", "path"),
    [
        ("provider: shop.repos.get_user_repo, from_received: itself", "shop.repos.get_user_repo", "itself", ()),
        ("from_received: 'attribute:repos.users'", None, "attribute:repos.users", ("repos", "users")),
        ("provider: shop.repos.get_user_repo, from_received: depends", "shop.repos.get_user_repo", "depends", None),
        ("provider: shop.repos.get_user_repo", "shop.repos.get_user_repo", None, None),
    ],
)
def test_provider_is_optional_and_from_received_says_how_a_received_facade_reaches_the_repository(
    spec: str,
    provider: str | None,
    from_received: str | None,
    path: tuple[str, ...] | None,
    edit_plan: Callable[[str, str], Path],
) -> None:
    plan = load_plan(edit_plan("provider: shop.repos.get_user_repo,", f"{spec},"))
    user = plan.repositories["user"]
    assert (user.provider, user.from_received, user.received_path) == (provider, from_received, path)


def test_saving_keeps_comments_and_key_order(shop: Path) -> None:
    path = shop / "migration_plan.yaml"
    before = path.read_text()
    plan = load_plan(path)
    record_status(plan, "shop/service.py", FileStatus.SKIPPED, {"action": "mark"}, reason="legacy")
    after = path.read_text()
    assert after.startswith("# A second, differently named codebase")
    assert after.index("facade:") < after.index("repositories:") < after.index("phases:")
    reloaded = load_plan(path)
    entry = reloaded.entry("shop/service.py")
    assert entry is not None and entry.status is FileStatus.SKIPPED and entry.reason == "legacy"
    assert entry.history[-1]["action"] == "mark" and entry.history[-1]["status"] == "skipped"
    # Nothing else changed: every original line that is not the edited entry survives verbatim.
    untouched = [line for line in before.splitlines() if "shop/service.py" not in line]
    assert all(line in after.splitlines() for line in untouched)


def test_a_crash_while_saving_leaves_the_old_plan(shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = shop / "migration_plan.yaml"
    before = path.read_bytes()
    plan = load_plan(path)

    def crash(src: str, dst: str) -> None:
        raise KeyboardInterrupt  # the moment between writing the temporary file and the rename

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        record_status(plan, "shop/service.py", FileStatus.FAILED, {"action": "apply"})
    assert path.read_bytes() == before
    assert [p.name for p in shop.iterdir() if p.name.endswith(".tmp")] == []


def test_a_missing_planned_file_does_not_stop_loading(edit_plan: Callable[[str, str], Path]) -> None:
    # `status` shows it, `check` reports it, `rollback` may be the way to bring it back
    path = edit_plan("path: shop/service.py", "path: shop/services.py")
    assert load_plan(path).entry("shop/services.py") is not None


def test_an_alias_bomb_is_refused_before_it_is_expanded(edit_plan: Callable[[str, str], Path]) -> None:
    levels = ["          - &l0 {event: lol, n: [1, 2, 3, 4, 5, 6, 7, 8, 9]}"]
    for level in range(1, 30):  # 9**30 events once expanded: only a refusal at the first anchor finishes
        levels.append(f"          - &l{level} {{event: lol, n: [{', '.join([f'*l{level - 1}'] * 9)}]}}")
    bomb = "\n".join(levels)
    path = edit_plan(
        "      - {path: shop/handlers.py, complexity: low, effort_minutes: 10, risk: low, repositories: [user], "
        "status: pending, history: []}",
        f"      - path: shop/handlers.py\n        history:\n{bomb}",
    )
    with pytest.raises(PlanError) as raised:
        load_plan(path)
    assert str(raised.value).startswith(f"{path}:26: invalid YAML: anchors and aliases (&l0) are not allowed")


def test_a_plan_too_large_to_be_a_plan_is_refused_before_reading(shop: Path) -> None:
    from asyncmigrate.config.plan import MAX_PLAN_BYTES

    path = shop / "migration_plan.yaml"
    with path.open("a") as handle:
        handle.truncate(MAX_PLAN_BYTES + 1)  # sparse: the size is what is checked, not the content
    with pytest.raises(PlanError) as raised:
        load_plan(path)
    assert str(raised.value) == f"{path}: 4.0 MB is over the 4 MB a plan may have; trim the history"


# Argument mappings: each (the text replacing ``fetch_user: user.find`` on line 14, expected line, fragment)
FETCH = "fetch_user: user.find"
MALFORMED_MAPPINGS = {
    "unknown mapping key": (
        "fetch_user: {target: user.find, order: [a]}",
        14,
        "mappings.fetch_user.order: unknown key (expected one of: adapter, args, awaitable, constants",
    ),
    "rename to a non-identifier": (
        "fetch_user: {target: user.find, args: {a: 2b}}",
        14,
        "args.a: '2b' is not a Python identifier",
    ),
    "positional not a list": (
        "fetch_user: {target: user.find, positional: a}",
        14,
        "mappings.fetch_user.positional: must be a list, got str",
    ),
    "positional listed twice": (
        "fetch_user:\n    target: user.find\n    positional: [a,\n      a]",
        17,
        "mappings.fetch_user.positional[1]: 'a' is listed twice",
    ),
    "constant that is no literal": (
        "fetch_user:\n    target: user.find\n    constants: {audit: [1]}",
        16,
        "mappings.fetch_user.constants.audit: must be a string, a number, true, false or null, got",
    ),
    "pack without a class": (
        "fetch_user: {target: user.find, pack: {fields: [a]}}",
        14,
        "mappings.fetch_user.pack.class: required key is missing",
    ),
    "pack class not qualified": (
        "fetch_user:\n    target: user.find\n    pack: {class: Params, fields: [a]}",
        16,
        "mappings.fetch_user.pack.class: 'Params' must be a qualified name",
    ),
    "pack without fields": (
        "fetch_user:\n    target: user.find\n    pack: {class: shop.p.Params, fields: []}",
        16,
        "mappings.fetch_user.pack.fields: must name at least one facade parameter",
    ),
    "packed and positional": (
        "fetch_user:\n    target: user.find\n    positional: [a]\n    pack: {class: shop.p.Params, fields: [a]}",
        17,
        "mappings.fetch_user.pack.fields: 'a' is also listed under positional",
    ),
    "adapter not qualified": (
        "fetch_user:\n    target: user.find\n    adapter: 'count(x)'",
        16,
        "mappings.fetch_user.adapter: 'count(x)' must be a qualified name",
    ),
    "awaitable not a boolean": (
        "fetch_user:\n    target: user.find\n    awaitable: sometimes",
        16,
        "mappings.fetch_user.awaitable: must be true or false, got str",
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED_MAPPINGS))
def test_malformed_argument_mapping_names_file_line_and_key(case: str, edit_plan: Callable[[str, str], Path]) -> None:
    new, line, fragment = MALFORMED_MAPPINGS[case]
    path = edit_plan(FETCH, new)
    with pytest.raises(PlanError) as raised:
        load_plan(path)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"{path}:{line}:"), message
    assert fragment in message, message


def test_argument_mapping_loads(edit_plan: Callable[[str, str], Path]) -> None:
    path = edit_plan(
        FETCH,
        "fetch_user:\n"
        "    target: user.find\n"
        "    args: {uid: user_id}\n"
        "    positional: [uid, name]\n"
        "    constants: {fresh: true, label: 'x', limit: 3, tag: null}\n"
        "    pack: {class: shop.params.Query, fields: {page: number, size: size}, keyword: query}\n"
        "    adapter: shop.glue.find_user\n"
        "    awaitable: false",
    )
    plan = load_plan(path)
    mapping = plan.mappings["fetch_user"]
    assert mapping.args == (("uid", "user_id"),)
    assert mapping.positional == ("uid", "name")
    assert mapping.constants == (("fresh", "True"), ("label", "'x'"), ("limit", "3"), ("tag", "None"))
    assert mapping.pack is not None
    assert (mapping.pack.class_name, mapping.pack.fields, mapping.pack.keyword) == (
        "shop.params.Query",
        (("page", "number"), ("size", "size")),
        "query",
    )
    assert mapping.adapter == "shop.glue.find_user"
    assert mapping.reshapes
    assert not plan.awaits("fetch_user")  # per method, over the repository's awaitable: true
    assert plan.awaits("store_user")
