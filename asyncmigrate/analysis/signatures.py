"""Signatures read from the tree: what a facade method, a repository method, an adapter or a parameter
class accepts, so a rewritten call is checked against the code before anything is written.

Read with ``ast`` from the module a qualified name points at (following ``from x import y`` re-exports
and base classes of the same module); nothing is imported or run.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass

from asyncmigrate.config.modules import ModuleLayout, resolve_relative
from asyncmigrate.workspace.cache import file_digest

_MAX_DEPTH = 5
# Bases that add no method a repository, an adapter or a parameter class is called through.
_EMPTY_BASES = frozenset({"object", "Generic", "Protocol", "ABC", "abc.ABC", "typing.Generic", "typing.Protocol"})


class SignatureUnknown(Exception):
    """The class inherits from something that cannot be read from the tree: no verdict either way."""


@dataclass(frozen=True)
class Signature:
    """The parameters a callable takes (``self`` left out for methods)."""

    name: str
    positional: tuple[str, ...]  # positional-only and positional-or-keyword, in order
    posonly: int  # how many of ``positional`` are positional-only
    kwonly: tuple[str, ...]
    required: frozenset[str]
    varargs: bool
    varkw: bool
    is_async: bool
    text: str  # as written: "get(isbn, *, fresh=False)"
    decorated: bool = False  # a decorator may change what calling it returns

    def problems(self, positional: int, keywords: Sequence[str], *, splat: bool = False) -> list[str]:
        """Why a call with ``positional`` positional arguments and these keywords does not fit, if it
        does not. ``splat``: the call also passes ``*args`` or ``**kwargs``, so missing arguments may
        come from there."""
        found: list[str] = []
        if positional > len(self.positional) and not self.varargs:
            found.append(f"too many positional arguments ({positional}, it takes {len(self.positional)})")
        filled = set(self.positional[:positional])
        keyword_names = set(self.positional[self.posonly :]) | set(self.kwonly)
        for keyword in keywords:
            if keyword in filled:
                found.append(f"{keyword!r} is given twice")
            elif keyword in self.positional[: self.posonly] and not self.varkw:
                found.append(f"{keyword!r} is positional-only")
                continue
            elif keyword not in keyword_names and not self.varkw:
                found.append(f"unknown keyword {keyword!r}")
                continue
            filled.add(keyword)
        if not splat:
            missing = sorted(self.required - filled, key=self._order)
            if missing:
                found.append("missing required argument " + ", ".join(repr(m) for m in missing))
        return found

    def _order(self, name: str) -> int:
        names = [*self.positional, *self.kwonly]
        return names.index(name) if name in names else len(names)


def _signature(
    name: str, args: ast.arguments, is_async: bool, *, drop_first: bool, decorated: bool = False
) -> Signature:
    positional = [*args.posonlyargs, *args.args]
    posonly = len(args.posonlyargs)
    defaults = len(args.defaults)
    required = {a.arg for a in positional[: len(positional) - defaults]}
    required |= {a.arg for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is None}
    text = f"{name}({ast.unparse(args)})"
    if drop_first and positional:
        required.discard(positional[0].arg)
        positional = positional[1:]
        posonly = max(posonly - 1, 0)
    return Signature(
        name=name,
        positional=tuple(a.arg for a in positional),
        posonly=posonly,
        kwonly=tuple(a.arg for a in args.kwonlyargs),
        required=frozenset(required),
        varargs=args.vararg is not None,
        varkw=args.kwarg is not None,
        is_async=is_async,
        text=text,
        decorated=decorated,
    )


def _is_plain_decorator(decorator: ast.expr) -> bool:
    """``staticmethod``, ``classmethod``, ``abstractmethod``, ``override``: the call returns what the def does."""
    name = decorator.attr if isinstance(decorator, ast.Attribute) else getattr(decorator, "id", "")
    return name in {"staticmethod", "classmethod", "abstractmethod", "override"}


def _is_static(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in node.decorator_list)


# Modules parsed by any index of this process, by the digest of their bytes: each codemod pass makes its
# own index, and the facade's and repositories' modules are the same text for all of them (the trees are
# only read).
_parsed: dict[bytes, ast.Module | None] = {}
_PARSED_KEPT = 256


def _parse(data: bytes) -> ast.Module | None:
    digest = file_digest(data)
    if digest not in _parsed:
        if len(_parsed) >= _PARSED_KEPT:
            _parsed.clear()
        try:
            _parsed[digest] = ast.parse(data)
        except (SyntaxError, ValueError):
            _parsed[digest] = None
    return _parsed[digest]


class SignatureIndex:
    """Signatures of the tree the ``layout`` describes; each module is read at most once."""

    def __init__(self, layout: ModuleLayout) -> None:
        self.layout = layout
        self._modules: dict[str, tuple[ast.Module, bool] | None] = {}

    def _module(self, dotted: str) -> tuple[ast.Module, bool] | None:
        if dotted not in self._modules:
            path = self.layout.module_file(dotted) if dotted else None
            tree = None
            if path is not None:
                try:
                    tree = _parse(path.read_bytes())
                except OSError:
                    tree = None
            self._modules[dotted] = (tree, path.name == "__init__.py") if tree is not None and path else None
        return self._modules[dotted]

    def _definition(self, dotted: str, depth: int = 0) -> tuple[ast.stmt, str] | None:
        """The ``def`` or ``class`` statement a qualified name points at, with its module."""
        module, _, name = dotted.rpartition(".")
        found = self._module(module)
        if found is None or depth > _MAX_DEPTH:
            return None
        tree, is_package = found
        for node in reversed(tree.body):  # the last definition wins, as it does at run time
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.name == name:
                return node, module
            if isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    if (alias.asname or alias.name) == name:
                        package = module if is_package else module.rpartition(".")[0]
                        source = resolve_relative(package, node.level, node.module)
                        if source is None:
                            return None
                        return self._definition(f"{source}.{alias.name}", depth + 1)
        return None

    def exists(self, dotted: str) -> bool:
        return self._definition(dotted) is not None

    def function(self, dotted: str) -> Signature | None:
        """A module-level function's signature (None when it is not defined in the tree)."""
        found = self._definition(dotted)
        if found is None or not isinstance(found[0], ast.FunctionDef | ast.AsyncFunctionDef):
            return None
        node = found[0]
        return _signature(node.name, node.args, isinstance(node, ast.AsyncFunctionDef), drop_first=False)

    def method(self, class_dotted: str, name: str) -> Signature | None:
        """A method of a class defined in the tree, looked up through its bases; None when the class is
        not in the tree or has no such method. Raises SignatureUnknown when a base cannot be read."""
        found = self._definition(class_dotted)
        if found is None or not isinstance(found[0], ast.ClassDef):
            return None
        return self._method_in(found[0], found[1], name, 0)

    def first_method(self, class_names: Sequence[str], name: str) -> Signature | None:
        """``name``'s signature in the first of ``class_names`` (the facade's classes, say) whose method of
        that name can be read; None when none can."""
        for class_name in class_names:
            try:
                signature = self.method(class_name, name)
            except SignatureUnknown:
                continue
            if signature is not None:
                return signature
        return None

    def _method_in(self, cls: ast.ClassDef, module: str, name: str, depth: int) -> Signature | None:
        for item in reversed(cls.body):
            if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and item.name == name:
                is_async = isinstance(item, ast.AsyncFunctionDef)
                decorated = any(not _is_plain_decorator(d) for d in item.decorator_list)
                return _signature(item.name, item.args, is_async, drop_first=not _is_static(item), decorated=decorated)
        for base in cls.bases:
            expression = base.value if isinstance(base, ast.Subscript) else base  # Base[T]
            base_name = ast.unparse(expression)
            if base_name in _EMPTY_BASES:
                continue
            found = self._definition(f"{module}.{base_name}") if isinstance(expression, ast.Name) else None
            if found is None or not isinstance(found[0], ast.ClassDef) or depth >= _MAX_DEPTH:
                raise SignatureUnknown(f"{cls.name} inherits from {base_name}, which is not in the tree")
            signature = self._method_in(found[0], found[1], name, depth + 1)
            if signature is not None:
                return signature
        return None

    def has_class(self, dotted: str) -> bool:
        found = self._definition(dotted)
        return found is not None and isinstance(found[0], ast.ClassDef)

    def constructor(self, class_dotted: str) -> Signature | None:
        """What ``Class(...)`` accepts: its ``__init__``, else its annotated fields (a dataclass, a
        pydantic model, a NamedTuple); None when the class is not in the tree or says neither."""
        found = self._definition(class_dotted)
        if found is None or not isinstance(found[0], ast.ClassDef):
            return None
        cls = found[0]
        try:
            init = self._method_in(cls, found[1], "__init__", 0)
        except SignatureUnknown:
            return None
        if init is not None:
            return init
        if any(ast.unparse(base) not in _EMPTY_BASES for base in cls.bases):
            return None  # fields inherited from a base: not worth guessing which
        fields: list[str] = []
        required: set[str] = set()
        for item in cls.body:
            if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                if "ClassVar" in ast.unparse(item.annotation):
                    continue
                fields.append(item.target.id)
                if item.value is None:
                    required.add(item.target.id)
        if not fields:
            return None
        text = f"{cls.name}({', '.join(fields)})"
        return Signature(cls.name, tuple(fields), 0, (), frozenset(required), False, False, False, text)
