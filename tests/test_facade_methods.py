"""The facade's public methods, read from its class in the tree (``discover_methods``)."""

from __future__ import annotations

from pathlib import Path

from asyncmigrate.analysis.facade import discover_methods
from asyncmigrate.config.modules import ModuleLayout


def _write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_methods_follow_bases_and_re_exports(tmp_path: Path) -> None:
    _write(tmp_path, "store/__init__.py", "from .impl import Store as Facade\n")
    _write(
        tmp_path,
        "store/impl.py",
        "class Base:\n    def ping(self): ...\n    def _hidden(self): ...\n\n"
        "class Store(Base):\n    def load(self): ...\n    async def save(self): ...\n",
    )
    layout = ModuleLayout.of([""], tmp_path)
    assert discover_methods(layout, ["store.Facade"]) == {"ping", "load", "save"}
    assert discover_methods(layout, ["store.impl.Base"]) == {"ping"}
    assert discover_methods(layout, ["store.Missing"]) == set()


def test_the_first_binding_of_a_name_wins(tmp_path: Path) -> None:
    _write(tmp_path, "a.py", "class Facade:\n    def first(self): ...\n\nclass Facade:\n    def second(self): ...\n")
    _write(tmp_path, "b.py", "from a import Facade\n\nclass Facade:\n    def local(self): ...\n")
    layout = ModuleLayout.of([""], tmp_path)
    assert discover_methods(layout, ["a.Facade"]) == {"first"}
    assert discover_methods(layout, ["b.Facade"]) == {"first"}


def test_an_edited_module_is_read_again_and_a_broken_one_gives_nothing(tmp_path: Path) -> None:
    layout = ModuleLayout.of([""], tmp_path)
    _write(tmp_path, "f.py", "class Facade:\n    def old(self): ...\n")
    assert discover_methods(layout, ["f.Facade"]) == {"old"}
    _write(tmp_path, "f.py", "class Facade:\n    def new(self): ...\n")
    assert discover_methods(layout, ["f.Facade"]) == {"new"}
    _write(tmp_path, "f.py", "class Facade(:\n")
    assert discover_methods(layout, ["f.Facade"]) == set()
