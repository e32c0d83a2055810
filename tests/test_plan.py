from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from asyncmigrate.errors import PlanError
from asyncmigrate.plan import load_plan, record_status
from asyncmigrate.types import FileStatus


def test_loads_the_shop_plan(shop: Path) -> None:
    plan = load_plan(shop / "migration_plan.yaml")
    assert plan.facade.factories == ("shop.db.get_db",)
    assert plan.repositories["user"].attribute == "user_repo"
    assert plan.mappings["fetch_user"].target == "user.find"
    assert plan.unmapped == ("vacuum",)
    assert [p.id for p in plan.phases] == [1, 2]
    assert [e.path for e in plan.entries()] == ["shop/handlers.py", "shop/service.py", "tests/test_service.py"]


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
    "phase file that does not exist": (
        "path: shop/service.py",
        "path: shop/services.py",
        28,
        "file 'shop/services.py' does not exist",
    ),
    "bad status": (
        "status: pending, history: []}\n  - id: 2",
        "status: done, history: []}\n  - id: 2",
        24,
        "'done' is not one of pending",
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
