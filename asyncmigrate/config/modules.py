"""Paths <-> module names, the way Python resolves them: the one implementation every part uses.

The scanner, the call graph, test selection and the codemods all need the module a file is and the
module a relative import names; when two of them disagree, a call is followed by one and missed by
the other. So both questions are answered here and nowhere else.

- Import roots (``sys.path`` entries, root-relative) come from the plan's ``python_path``; by default
  the project root and each source directory that is not itself a package, so in a ``src/`` layout
  ``src/app/api.py`` is ``app.api``. A file under several roots takes the innermost one.
- A regular package ``x/__init__.py`` wins over a module ``x.py`` beside it, and an earlier root over
  a later one, as the import system does. A file so hidden can never be imported under its name, so
  it gets a name of its own (``x[shadowed]``) that no import can reach: its own calls are still
  followed, and no two files share a name.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from asyncmigrate.config.plan import Plan

SHADOWED = "[shadowed]"


def _without_suffix(name: str) -> str:
    """A file name without its last suffix: ``api.py`` -> ``api``, ``..py`` -> ``.``, ``.hidden`` and
    ``a.`` unchanged. This is ``PurePath.with_suffix("")`` up to Python 3.12; 3.13's refuses a stem of
    ``.``, and a module's name must not depend on the interpreter that runs the tool."""
    dot = name.rfind(".")
    return name[:dot] if 0 < dot < len(name) - 1 else name


def _clean(root: str) -> str:
    text = PurePosixPath(root.replace("\\", "/")).as_posix()
    return "" if text in (".", "") else text.rstrip("/")


@dataclass(frozen=True)
class ModuleLayout:
    """Where modules live: the import roots (root-relative, "" for the project root)."""

    roots: tuple[str, ...] = ("",)
    base: Path | None = None  # the project root on disk; None: do not look for shadowing packages

    @classmethod
    def of(cls, roots: Iterable[str], base: Path | None = None) -> ModuleLayout:
        cleaned = tuple(dict.fromkeys(_clean(r) for r in roots)) or ("",)
        return cls(cleaned, base)

    def _root_of(self, path: PurePosixPath) -> PurePosixPath | None:
        best: PurePosixPath | None = None
        for root in self.roots:
            candidate = PurePosixPath(root) if root else PurePosixPath()
            if root and candidate not in path.parents:
                continue
            if best is None or len(candidate.parts) > len(best.parts):
                best = candidate
        return best

    def module_name(self, path: str) -> tuple[str, bool]:
        """``src/app/api.py`` -> (``app.api``, False); ``src/app/__init__.py`` -> (``app``, True)."""
        found = self._plain_module_name(path)
        return found if found is not None else self._pathlib_module_name(path)

    def _plain_module_name(self, path: str) -> tuple[str, bool] | None:
        """``module_name`` with string operations, for a plain relative path (what discovery finds) on a
        POSIX system; None for any other path, left to pathlib. The scan asks once per file, and
        pathlib's objects were most of the answer's cost; the answer is the same (tests compare)."""
        parts = path.replace("\\", "/").split("/")
        if os.sep != "/" or "" in parts or "." in parts or ".." in parts:
            return None
        roots = _root_parts(self.roots)
        best: tuple[str, ...] | None = None
        for root in roots:  # the innermost root holding the path; the first of equals
            if root is None or (root and (len(root) >= len(parts) or tuple(parts[: len(root)]) != root)):
                continue
            if best is None or len(root) > len(best):
                best = root
        relative = parts[len(best) :] if best else parts
        relative = [*relative[:-1], _without_suffix(relative[-1])]
        is_package = relative[-1] == "__init__"
        if is_package:
            relative = relative[:-1]
        name = ".".join(relative)
        if self.base is None or not name:
            return name, is_package
        dotted = name.split(".")
        if "" in dotted or "." in dotted or None in roots:
            return None  # components pathlib would drop or reset on: its own answer
        base = str(self.base)
        for root in roots:
            assert root is not None
            directory = "/".join((base, *root, *dotted))
            for candidate in (directory + "/__init__.py", directory + ".py"):  # module_file's order
                if _is_file(candidate):
                    if candidate != "/".join((base, *parts)):
                        return name + SHADOWED, is_package
                    return name, is_package
        return name, is_package

    def _pathlib_module_name(self, path: str) -> tuple[str, bool]:
        posix = PurePosixPath(path.replace("\\", "/"))
        root = self._root_of(posix)
        relative = posix.relative_to(root) if root is not None and root.parts else posix
        if not relative.name:
            raise ValueError(f"{path!r} names no file")
        parts = [*relative.parts[:-1], _without_suffix(relative.name)]
        is_package = bool(parts) and parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        name = ".".join(parts)
        if self.base is not None and name:
            winner = self.module_file(name)
            if winner is not None and winner != self.base / posix:
                return name + SHADOWED, is_package  # a package beside it, or the same name on an earlier root
        return name, is_package

    def package_of(self, path: str) -> str:
        """The package relative imports in ``path`` start from."""
        name, is_package = self.module_name(path)
        return name if is_package else name.rpartition(".")[0]

    def module_file(self, dotted: str) -> Path | None:
        """The file ``import dotted`` loads, searching the roots in order (a package before a module)."""
        if self.base is None or not dotted:
            return None
        for root in self.roots:
            base = self.base.joinpath(root, *dotted.split(".")) if root else self.base.joinpath(*dotted.split("."))
            for candidate in (base / "__init__.py", base.with_suffix(".py")):
                if candidate.is_file():
                    return candidate
        return None

    def fingerprint(self) -> str:
        return "|".join(self.roots)


DEFAULT_LAYOUT = ModuleLayout()


@lru_cache(maxsize=64)
def _root_parts(roots: tuple[str, ...]) -> tuple[tuple[str, ...] | None, ...]:
    """Each root's components as pathlib parses them; None for an absolute root (under which no
    relative path lies, and which resets a join)."""
    parsed = [PurePosixPath(root) if root else PurePosixPath() for root in roots]
    return tuple(None if path.is_absolute() else path.parts for path in parsed)


def _is_file(path: str) -> bool:
    """``Path.is_file`` on a string: errors other than a missing or unreachable file are raised."""
    try:
        status = os.stat(path)
    except OSError as exc:
        if exc.errno not in (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP):
            raise
        return False
    except ValueError:
        return False
    return (status.st_mode & 0o170000) == 0o100000  # S_ISREG


def default_roots(base: Path, source: Sequence[str]) -> tuple[str, ...]:
    """The project root, and each source directory that is not itself a package (``src/``)."""
    roots = [""]
    for directory in source:
        cleaned = _clean(directory)
        if cleaned and (base / cleaned).is_dir() and not (base / cleaned / "__init__.py").is_file():
            roots.append(cleaned)
    return tuple(dict.fromkeys(roots))


def resolve_relative(package: str, level: int, target: str | None) -> str | None:
    """``from ..x import y`` in a module of ``package`` -> the absolute name of ``..x``.

    ``level`` 1 is the package itself; each further dot climbs one package. None when the import
    climbs above the top-level package (Python raises ImportError there).
    """
    if level <= 0:
        return target or None
    parts = package.split(".") if package else []
    if level - 1 >= len(parts):
        return None
    base = parts[: len(parts) - (level - 1)]
    if target:
        base.append(target)
    return ".".join(base) or None


def absolute_name(package: str, name: str) -> str:
    """A name as LibCST's qualified names write it (``.x.y``, ``..z``) made absolute; others unchanged."""
    if not name.startswith("."):
        return name
    rest = name.lstrip(".")
    resolved = resolve_relative(package, len(name) - len(rest), rest or None)
    return resolved if resolved is not None else name


def plan_layout(plan: Plan) -> ModuleLayout:
    """The layout the plan describes: its ``python_path``, else the default roots of its sources."""
    roots = plan.python_path or default_roots(plan.root, plan.source)
    return ModuleLayout.of(roots, plan.root)


def nested_qualname(parent: str | None, parent_is_function: bool, name: str) -> str:
    """The qualified name (``__qualname__``) of a def or class called ``name`` within its module.

    ``parent`` is the qualified name of the innermost enclosing def or class (None at module level):
    ``C.m`` for a method, ``f.<locals>.g`` for a function nested in a function. The scan's collector,
    its slicer, the reach summary and the call graph all name functions with this one rule, so their
    names agree as strings.
    """
    if parent is None:
        return name
    return f"{parent}.<locals>.{name}" if parent_is_function else f"{parent}.{name}"


def is_test_file(path: str, *, test_roots: Sequence[str] = (), conftest: bool = True) -> bool:
    """Is ``path`` a test file: a module pytest collects by default (``test_*.py``, ``*_test.py``),
    ``conftest.py`` (the fixtures its tests run with) unless ``conftest`` is false, or any file
    under one of ``test_roots`` (root-relative directories)."""
    name = PurePosixPath(path.replace("\\", "/")).name
    if name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py")):
        return True
    if conftest and name == "conftest.py":
        return True
    return any(path.startswith(root.rstrip("/") + "/") for root in test_roots)
