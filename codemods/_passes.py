"""How a codemod pass runs for less: LibCST's metadata without the walks that compute nothing, resolved
once per tree when several passes read the same tree, and LibCST's visitor dispatch without its
per-instance and per-node matcher costs (no codemod lives here).

``MetadataWrapper`` runs the batchable providers of one dependency level together in one walk of the
whole tree, calling each provider's ``visit_*`` and ``leave_*`` methods as it goes. The providers the
codemods use (``ParentNodeProvider``, ``ExpressionContextProvider``, ``ScopeProvider``,
``QualifiedNameProvider``) have one such method, ``visit_Module``, which makes its own walk: the batched
walk around it computes nothing, and each walk of LibCST rebuilds every node it passes. ``QuickMetadata
Wrapper`` calls ``visit_Module`` of such a batch directly, resolving their dependencies as LibCST does,
and computes ``ParentNodeProvider``'s answer by reading the nodes' fields (every child is the value of
a field, or an item of a sequence in one, which is what ``CSTNode.children`` collects) instead of its
walk that asks each node for ``children`` (a rebuild of the node), and ``PositionProvider``'s with
``_positions.py``'s codegen state. A provider with any other visitor method is resolved by LibCST's own
walk.

``QuickMetadata`` (first among a codemod's bases) makes a codemod resolve its metadata with that
wrapper, and reuse the wrapper its context holds when it is over the very tree given to the codemod:
a pass that reads the tree a deciding pass read before it (the rewrite's decision and its replay, the
rewrite's probe and the propagation over a target's original text) then resolves nothing again. The
metadata is a function of the tree, which no pass mutates (LibCST's nodes are immutable). A wrapper over
a freshly parsed tree may skip LibCST's deep copy (``unsafe_skip_copy``): the parser makes every node
once, so no node appears twice, which is all the copy ensures.

``PlainDispatch`` (before LibCST's transformer among a codemod's bases) is for a transformer that uses
no matcher decorator (``@m.visit``, ``@m.leave``, ``@m.call_if_inside``...): LibCST's
``MatcherDecoratableTransformer`` looks for them on every instance, with ``getattr`` on each of the
hundreds of names ``dir()`` lists (tens of milliseconds a codemod), and at every node and field it
passes formats a method name and looks it up. Without decorators its dispatch is ``CSTTransformer``'s:
call ``visit_<Type>``, ``leave_<Type>``, ``visit_<Type>_<field>``, ``leave_<Type>_<field>`` when the
class overrides LibCST's do-nothing stub; here each lookup is made once per class and name.
"""

from __future__ import annotations

from abc import ABCMeta
from bisect import bisect_left
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import fields, replace
from typing import Any, cast

import libcst as cst
from libcst import BatchableCSTVisitor, MetadataWrapper
from libcst.codemod import Codemod, CodemodCommand, CodemodContext, ContextAwareTransformer, VisitorBasedCodemodCommand
from libcst.codemod.visitors import AddImportsVisitor, ImportItem, RemoveImportsVisitor
from libcst.metadata import CodeRange, ParentNodeProvider, PositionProvider

from asyncmigrate.codemods._positions import code_ranges

_MODULE_ONLY = {"visit_Module"}
_module_only_types: dict[type[Any], bool] = {}
_field_names: dict[type[Any], tuple[str, ...]] = {}


def _works_in_visit_module(visitor: BatchableCSTVisitor) -> bool:
    """Does all of this provider's work happen in ``visit_Module`` (its one visitor method)?"""
    kind = type(visitor)
    known = _module_only_types.get(kind)
    if known is None:
        known = _module_only_types[kind] = set(visitor.get_visitors()) == _MODULE_ONLY
    return known


def _fields_of(kind: type[Any]) -> tuple[str, ...]:
    names = _field_names.get(kind)
    if names is None:
        names = _field_names[kind] = tuple(f.name for f in fields(kind))
    return names


def child_nodes(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The nodes of ``node.children``, read from its fields (``children`` rebuilds the node to list them).
    In the order of the node's fields, which is not always the source order ``children`` keeps."""
    found: list[cst.CSTNode] = []
    node_type = cst.CSTNode
    for name in _fields_of(type(node)):
        value = getattr(node, name)
        if isinstance(value, node_type):
            found.append(value)
        elif isinstance(value, tuple | list):
            found.extend(item for item in value if isinstance(item, node_type))
    return found


def parent_nodes(module: cst.Module) -> dict[cst.CSTNode, cst.CSTNode]:
    """Each node's parent, as ``ParentNodeProvider`` gives it, read from the nodes' fields."""
    return _parents(module, unique=False) or {}


def _parents(module: cst.Module, *, unique: bool) -> dict[cst.CSTNode, cst.CSTNode] | None:
    """Each node's parent; with ``unique``, None as soon as a node turns up a second time. The walk over
    the fields is ``child_nodes``'s, written out: this runs on every tree a pass wraps, and the list per
    node ``child_nodes`` returns made it 30% slower on ``server/``."""
    parents: dict[cst.CSTNode, cst.CSTNode] = {}
    pending: list[cst.CSTNode] = [module]
    node_type = cst.CSTNode
    while pending:
        node = pending.pop()
        for name in _fields_of(type(node)):
            value = getattr(node, name)
            if isinstance(value, node_type):
                if unique and value in parents:
                    return None
                parents[value] = node
                pending.append(value)
            elif isinstance(value, tuple | list):
                for item in value:
                    if isinstance(item, node_type):
                        if unique and item in parents:
                            return None
                        parents[item] = node
                        pending.append(item)
    return parents


class QuickMetadataWrapper(MetadataWrapper):
    """``MetadataWrapper`` without the batched walk for providers that work in ``visit_Module`` alone,
    and without the deep copy of a tree in which no node appears twice.

    LibCST copies the tree so that every node is unique: metadata is keyed by node, and a node that a
    transform put in two places would have two parents and two positions. A tree a transform left
    usually has no such node; finding out is one walk that also gives each node's parent, where the
    copy rebuilds every node (and the parents would then take a walk of their own)."""

    def __init__(
        self, module: cst.Module, unsafe_skip_copy: bool = False, cache: Mapping[Any, object] | None = None
    ) -> None:
        self._parents = None if unsafe_skip_copy else _parents(module, unique=True)
        super().__init__(module, unsafe_skip_copy=unsafe_skip_copy or self._parents is not None, cache=cache or {})

    def resolve_many(self, providers: Any) -> Any:
        # ``PositionProvider``'s answer, computed for less (``_positions.py``) before LibCST resolves the rest.
        if PositionProvider not in self._metadata and PositionProvider in _with_dependencies(providers):
            self._metadata[PositionProvider] = code_ranges(self.module)
        return super().resolve_many(providers)

    def visit_batched(
        self,
        visitors: Iterable[BatchableCSTVisitor],
        before_visit: Any = None,
        after_leave: Any = None,
    ) -> cst.CSTNode:
        batch = list(visitors)
        if before_visit is not None or after_leave is not None or not all(map(_works_in_visit_module, batch)):
            return super().visit_batched(batch, before_visit, after_leave)
        with ExitStack() as stack:
            for visitor in batch:
                stack.enter_context(visitor.resolve(self))
            for visitor in batch:
                if type(visitor) is ParentNodeProvider:
                    parents = self._parents if self._parents is not None else parent_nodes(self.module)
                    for child, parent in parents.items():
                        visitor.set_metadata(child, parent)
                else:
                    visitor.visit_Module(self.module)
        return self.module


# The code of the last few trees asked about, newest last: holding a tree keeps its identity its own.
_recent_code: list[tuple[cst.Module, str]] = []
_RECENT_CODE = 4


def module_code(tree: cst.Module) -> str:
    """``tree.code``, generated once for each of the last few trees asked about. A file's passes and
    ``apply`` ask for the code of one tree up to four times (a pass's quick check, the next pass's, the
    output and its check): 176 of the 408 generations over ``apply --all`` on the bundled server were of
    a tree generated before. A tree is immutable, and so is its code."""
    for known, code in _recent_code:
        if known is tree:
            return code
    code = tree.code
    _recent_code.append((tree, code))
    if len(_recent_code) > _RECENT_CODE:
        del _recent_code[0]
    return code


def module_bytes(tree: cst.Module) -> bytes:
    """``tree.bytes``, from ``module_code``."""
    return module_code(tree).encode(tree.encoding)


def _with_dependencies(providers: Iterable[Any]) -> set[Any]:
    """``providers`` and what they depend on, as LibCST gathers them to resolve them."""
    found: set[Any] = set()
    pending = list(providers)
    while pending:
        provider = pending.pop()
        if provider not in found:
            found.add(provider)
            pending.extend(provider.METADATA_DEPENDENCIES)
    return found


def fresh_tree_metadata(tree: cst.Module) -> QuickMetadataWrapper:
    """A wrapper over a tree just parsed (its nodes are unique: no copy is needed), to share between passes."""
    return QuickMetadataWrapper(tree, unsafe_skip_copy=True)


def sharing(context: CodemodContext, wrapper: MetadataWrapper | None) -> CodemodContext:
    """``context`` holding ``wrapper``: a ``QuickMetadata`` codemod given ``wrapper.module`` reuses its metadata."""
    return context if wrapper is None else replace(context, wrapper=wrapper)


class QuickMetadata(Codemod):
    """Resolve metadata with ``QuickMetadataWrapper``, and reuse the context's wrapper over the same tree."""

    @contextmanager
    def _handle_metadata_reference(self, module: cst.Module) -> Generator[cst.Module, None, None]:
        previous = self.context.wrapper
        if previous is not None and previous.module is module:
            wrapper: MetadataWrapper = previous
        else:
            manager, filename = self.context.metadata_manager, self.context.filename
            cache: Mapping[Any, object] = manager.get_cache_for_path(filename) if manager and filename else {}
            wrapper = QuickMetadataWrapper(module, cache=cache)
        with self.resolve(wrapper):
            self.context = replace(self.context, wrapper=wrapper)
            try:
                yield wrapper.module
            finally:
                self.context = replace(self.context, wrapper=previous)


_hooks: dict[tuple[type[Any], str], Callable[..., Any] | None] = {}


def _hook(kind: type[Any], name: str) -> Callable[..., Any] | None:
    """The class's own ``name`` method, or None where it is ``CSTTransformer``'s do-nothing stub."""
    key = (kind, name)
    try:
        return _hooks[key]
    except KeyError:
        hook = getattr(kind, name, None)
        if hook is not None and hook is getattr(cst.CSTTransformer, name, None):
            hook = None
        _hooks[key] = hook
        return hook


class _DispatchMeta(ABCMeta):
    """Forgets the looked-up methods whenever a method of such a class is set or deleted (a test's
    monkeypatch), so the dispatch always calls what the class holds now."""

    def __setattr__(cls, name: str, value: Any) -> None:
        _hooks.clear()
        super().__setattr__(name, value)

    def __delattr__(cls, name: str) -> None:
        _hooks.clear()
        super().__delattr__(name)


class PlainDispatch(ContextAwareTransformer, metaclass=_DispatchMeta):
    """``CSTTransformer``'s dispatch, looked up once per class and name, for a transformer without
    matcher decorators (tests/codemods/test_quick_metadata.py checks that the codemods have none)."""

    def __init__(self, context: CodemodContext) -> None:
        # Not ContextAwareTransformer's: that runs MatcherDecoratableTransformer's search for decorators,
        # whose results only its own dispatch, replaced below, reads.
        Codemod.__init__(self, context)
        cst.CSTTransformer.__init__(self)

    def on_visit(self, node: cst.CSTNode) -> bool:
        hook = _hook(type(self), "visit_" + type(node).__name__)
        return hook is None or hook(self, node) is not False

    def on_leave(self, original_node: Any, updated_node: Any) -> Any:
        hook = _hook(type(self), "leave_" + type(original_node).__name__)
        return updated_node if hook is None else hook(self, original_node, updated_node)

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        hook = _hook(type(self), "visit_" + type(node).__name__ + "_" + attribute)
        if hook is not None:
            hook(self, node)

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        hook = _hook(type(self), "leave_" + type(original_node).__name__ + "_" + attribute)
        if hook is not None:
            hook(self, original_node)


class WalksEditedLines(PlainDispatch):
    """A transformer that walks only into the nodes spanning a line one of its edits starts on.

    LibCST's transformer rebuilds every node it walks, though most are left as they were. A codemod
    whose every edit is made where it leaves a node starting on a known line, and whose other methods
    only keep a stack in step (``visit_IndentedBlock`` / ``leave_IndentedBlock``), sets ``edited_lines``
    (sorted) before its walk: a node spanning none of them is not walked into (its own ``visit_*`` and
    ``leave_*`` still run), so it stays in the output as it was, and everything on the way to an edit is
    walked as before. The node spans come from ``PositionProvider``, which such a codemod depends on."""

    edited_lines: Sequence[int] | None = None  # None: walk everything

    def on_visit(self, node: cst.CSTNode) -> bool:
        descend = super().on_visit(node)
        lines = self.edited_lines
        if not descend or lines is None:
            return descend
        span = cast(Mapping[cst.CSTNode, CodeRange], self.metadata[PositionProvider]).get(node)
        if span is None:
            return True
        first = bisect_left(lines, span.start.line)
        return first < len(lines) and lines[first] <= span.end.line


def edited_lines(positions: Mapping[cst.CSTNode, CodeRange], nodes: Iterable[cst.CSTNode]) -> list[int] | None:
    """The sorted start lines of ``nodes`` (None when one has no position: then everything is walked)."""
    lines: set[int] = set()
    for node in nodes:
        span = positions.get(node)
        if span is None:
            return None
        lines.add(span.start.line)
    return sorted(lines)


# --- the import visitors LibCST runs after a codemod -------------------------------------------------


def _is_import_line(statement: cst.BaseStatement) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Import | cst.ImportFrom)
    )


def _leading_imports(module: cst.Module) -> int:
    """How many of the module's first statements ``AddImportsVisitor``'s gatherer may read: the first one
    (a docstring or ``__strict__`` line, or not), the import lines after it, and the statement ending them."""
    count = 1
    while count < len(module.body) and _is_import_line(module.body[count]):
        count += 1
    return min(count + 1, len(module.body))


class TopImportsAdder(AddImportsVisitor, PlainDispatch):
    """``AddImportsVisitor``, walking only what it reads and edits: the top-level statements, and the
    imports at the top of the module (it edits an ``ImportFrom`` there, and the module's body)."""

    def __init__(self, context: CodemodContext, imports: Sequence[ImportItem] = ()) -> None:
        super().__init__(context, imports)
        self._top: set[int] = set()  # ids of the module's statements

    @contextmanager
    def _handle_metadata_reference(self, module: cst.Module) -> Iterator[cst.Module]:
        # It reads no metadata: the wrapper only carries the tree, which need not be copied.
        previous = self.context.wrapper
        wrapper = QuickMetadataWrapper(module, unsafe_skip_copy=True)
        with self.resolve(wrapper):
            self.context = replace(self.context, wrapper=wrapper)
            try:
                yield wrapper.module
            finally:
                self.context = replace(self.context, wrapper=previous)

    def visit_Module(self, node: cst.Module) -> None:
        # Its gatherer reads the imports before the first other statement (after a docstring): give it those.
        super().visit_Module(node.with_changes(body=node.body[: _leading_imports(node)]))

    def on_visit(self, node: cst.CSTNode) -> bool:
        descend = super().on_visit(node)
        if isinstance(node, cst.Module):
            self._top = set(map(id, node.body))
            return descend
        return descend and id(node) in self._top and isinstance(node, cst.SimpleStatementLine)


class QuickImportsRemover(QuickMetadata, RemoveImportsVisitor, PlainDispatch):
    """``RemoveImportsVisitor`` with ``QuickMetadata`` and ``PlainDispatch``, keeping the module's spacing.

    LibCST drops a module-level line whose every import it removes together with the blank lines above it,
    so the statement after it moves up: glued to the module's docstring (which black and ruff's formatter
    then separate again), or, for the file's first line, leaving the blank line below it at the top of the
    file. Here the next statement kept takes those blank lines when it has none of its own (comments above
    a removed import go with it, as in LibCST), and the file's first statement kept, once the lines before it
    are removed, sheds the blank lines above it unless a comment ends the module's header just above them."""

    def __init__(self, context: CodemodContext, *args: Any, **kwargs: Any) -> None:
        super().__init__(context, *args, **kwargs)
        self._emptied: set[int] = set()  # ids of the original lines whose every import was removed

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine:
        if not updated_node.body:
            self._emptied.add(id(original_node))  # LibCST removes the empty line once it is left
        return updated_node

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        removed = [id(statement) in self._emptied for statement in original_node.body]
        if not any(removed) or len(updated_node.body) != removed.count(False):
            return updated_node
        kept = iter(updated_node.body)
        header = updated_node.header
        body: list[cst.BaseStatement] = []
        blank: list[cst.EmptyLine] = []  # the blank lines above the lines removed since the last one kept
        for gone, statement in zip(removed, original_node.body, strict=True):
            if gone:
                blank += [line for line in statement.leading_lines if line.comment is None]
                continue
            following = next(kept)
            if not body and removed[0] and (not header or header[-1].comment is None):
                lines = list(following.leading_lines)
                while lines and lines[0].comment is None:
                    lines.pop(0)  # the file does not start with a blank line, nor the header end with two
                following = following.with_changes(leading_lines=lines)
            elif blank and not following.leading_lines:
                following = following.with_changes(leading_lines=blank)
            blank = []
            body.append(following)
        return updated_node.with_changes(body=body)


class QuickImportVisitors(CodemodCommand):
    """A codemod whose import visitors run as ``TopImportsAdder`` and ``QuickImportsRemover``."""

    def _instantiate_and_run(self, transform: type[Codemod], tree: cst.Module) -> cst.Module:
        if transform is AddImportsVisitor:
            transform = TopImportsAdder
        elif transform is RemoveImportsVisitor:
            transform = QuickImportsRemover
        return super()._instantiate_and_run(transform, tree)


class QuickVisitorCommand(QuickMetadata, QuickImportVisitors, PlainDispatch, VisitorBasedCodemodCommand):
    """A visitor-based codemod command run with all of the above: what the asyncmigrate codemods derive from."""
