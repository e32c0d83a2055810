"""Signatures read from the tree, which the rewrite checks every call against."""

from __future__ import annotations

from pathlib import Path

import pytest

from asyncmigrate.analysis.signatures import SignatureIndex, SignatureUnknown
from asyncmigrate.config.modules import ModuleLayout


@pytest.fixture
def index(tmp_path: Path) -> SignatureIndex:
    package = tmp_path / "depot"
    package.mkdir()
    (package / "__init__.py").write_text("from depot.base import Repo as Repo\n")
    (package / "base.py").write_text(
        "from typing import Generic, TypeVar\n"
        "from outside import Model\n"
        "T = TypeVar('T')\n\n\n"
        "class Repo(Generic[T]):\n"
        "    async def get(self, key: str, /, *, fresh: bool = False) -> T: ...\n"
        "    @staticmethod\n"
        "    def make(a, b=1, *rest, **options): ...\n\n\n"
        "class Crates(Repo[int]):\n"
        "    def count(self, owner): ...\n\n\n"
        "class Foreign(Model):\n"
        "    pass\n\n\n"
        "class Params:\n"
        "    owner: str\n"
        "    size: int = 1\n"
    )
    return SignatureIndex(ModuleLayout.of([""], tmp_path))


def test_methods_through_bases_and_re_exports(index: SignatureIndex) -> None:
    get = index.method("depot.Repo", "get")  # re-exported by the package
    assert get is not None and get.is_async
    assert (get.positional, get.posonly, get.kwonly, get.required) == (("key",), 1, ("fresh",), frozenset({"key"}))
    inherited = index.method("depot.base.Crates", "get")  # through ``Repo[int]``
    assert inherited == get
    make = index.method("depot.base.Repo", "make")  # a staticmethod keeps its first parameter
    assert make is not None and make.positional == ("a", "b") and make.varargs and make.varkw
    assert index.method("depot.base.Crates", "missing") is None
    assert index.method("depot.nowhere.Repo", "get") is None


def test_a_base_outside_the_tree_gives_no_verdict(index: SignatureIndex) -> None:
    with pytest.raises(SignatureUnknown):
        index.method("depot.base.Foreign", "get")


def test_call_problems(index: SignatureIndex) -> None:
    get = index.method("depot.base.Repo", "get")
    assert get is not None
    assert get.problems(1, ["fresh"]) == []
    assert get.problems(2, []) == ["too many positional arguments (2, it takes 1)"]
    assert get.problems(0, ["key"]) == ["'key' is positional-only", "missing required argument 'key'"]
    assert get.problems(0, [], splat=True) == []  # ``*args`` may carry it
    assert get.problems(1, ["stale"]) == ["unknown keyword 'stale'"]


def test_parameter_class_from_annotated_fields(index: SignatureIndex) -> None:
    params = index.constructor("depot.base.Params")
    assert params is not None
    assert params.problems(0, ["owner", "size"]) == []
    assert params.problems(0, ["size"]) == ["missing required argument 'owner'"]
    assert params.problems(0, ["owner", "weight"]) == ["unknown keyword 'weight'"]
    assert index.constructor("depot.base.Foreign") is None
    assert index.has_class("depot.base.Params") and not index.has_class("depot.base.Nothing")
