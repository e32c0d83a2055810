"""Apply a propagation plan to one file: ``def`` -> ``async def``, ``await`` at the call sites, and the
automatic resolutions (``@contextmanager`` -> ``@asynccontextmanager`` with ``async with``, generators
-> async generators with ``async for``, ``threading.Lock()`` -> ``asyncio.Lock()``, ``asyncio.run`` at a
``__main__`` entry point, ``@pytest.mark.asyncio`` on tests when pytest-asyncio is in strict mode,
``asyncio.run(coro)`` -> ``await coro``, ``sum(g for …)`` -> ``sum([await … for …])``,
``unittest.TestCase`` -> ``IsolatedAsyncioTestCase`` with ``setUp`` -> ``asyncSetUp``).

It records every edit it applies; ``missing()`` names each planned edit it could not find or apply, and
``compute_change`` turns those into blockers (a dropped ``await`` still compiles).

The plan (``asyncmigrate.migration.propagate.PropagationPlan``) is computed project-wide first; this codemod only
finds the nodes it names, by the line and column of each callee's name token. It computes nothing: under
``python -m libcst.tool codemod`` the plan comes from an edit plan file, made by ``apply_edits.ApplyEditsCommand
--edits edits.json`` (``asyncmigrate apply FILE --dry-run --emit-edits edits.json`` writes it).
"""

from __future__ import annotations

from typing import cast

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor
from libcst.metadata import ParentNodeProvider, PositionProvider

from asyncmigrate.codemods._imports import SkipsNeedlessImportCleanup
from asyncmigrate.codemods._passes import QuickVisitorCommand, WalksEditedLines
from asyncmigrate.codemods._syntax import awaited, needs_parentheses_for_await
from asyncmigrate.errors import AsyncMigrateError
from asyncmigrate.frameworks import pytest, unittest
from asyncmigrate.migration.propagate import (
    ASYNC_COMP,
    ASYNC_FOR,
    ASYNC_VARIANT,
    ASYNC_WITH,
    ASYNCIO_RUN,
    AWAIT,
    GENEXP_LIST,
    UNWRAP_RUN,
    CallEdit,
    ClassEdit,
    FunctionEdit,
    LockEdit,
    PropagationPlan,
)

_ASYNC_RETURN_TYPES = {"Iterator": "AsyncIterator", "Iterable": "AsyncIterable", "Generator": "AsyncGenerator"}


def _token(node: cst.BaseExpression) -> cst.Name | None:
    """The name token a call or a ``with`` item is keyed by: ``f`` in ``f()``, ``m`` in ``a.b.m()``."""
    if isinstance(node, cst.Name):
        return node
    if isinstance(node, cst.Attribute):
        return node.attr
    return None


def _dotted(node: cst.BaseExpression) -> tuple[str, ...] | None:
    if isinstance(node, cst.Name):
        return (node.value,)
    if isinstance(node, cst.Attribute):
        head = _dotted(node.value)
        return (*head, node.attr.value) if head else None
    return None


class PropagateAsyncCommand(SkipsNeedlessImportCleanup, WalksEditedLines, QuickVisitorCommand):
    DESCRIPTION = "Turn functions async and await their call sites, as a project-wide propagation plan says."
    METADATA_DEPENDENCIES = (PositionProvider, ParentNodeProvider)

    def __init__(
        self,
        context: CodemodContext,
        propagation: PropagationPlan | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(context)
        self.propagation = propagation
        self.path = path
        self.functions: dict[tuple[int, int], FunctionEdit] = {}
        self.calls: dict[tuple[int, int], CallEdit] = {}
        self.locks: dict[tuple[int, int], LockEdit] = {}
        self.classes: dict[tuple[int, str], ClassEdit] = {}
        # what was applied, by the same keys: compared with the plan, so a dropped edit stops the apply
        self.applied_functions: set[tuple[int, int]] = set()
        self.applied_calls: set[tuple[int, int]] = set()
        self.applied_locks: set[tuple[int, int]] = set()
        self.applied_classes: set[tuple[int, str]] = set()

    @property
    def applied(self) -> int:
        return (
            len(self.applied_functions) + len(self.applied_calls) + len(self.applied_locks) + len(self.applied_classes)
        )

    def missing(self) -> list[tuple[int, str]]:
        """Each planned edit of this file that was not applied: (line, what it was)."""
        missing = [
            (e.name_line, f"`async def {e.function}`")
            for k, e in self.functions.items()
            if k not in self.applied_functions
        ]
        missing += [(e.line, f"{e.kind} of {e.callee}") for k, e in self.calls.items() if k not in self.applied_calls]
        missing += [
            (e.line, f"asyncio.Lock for {e.lock}") for k, e in self.locks.items() if k not in self.applied_locks
        ]
        missing += [
            (e.line, f"{unittest.ASYNC_TESTCASE} base of {e.name}")
            for k, e in self.classes.items()
            if k not in self.applied_classes
        ]
        return sorted(missing)

    def _load_edits(self) -> None:
        if self.propagation is None:
            raise AsyncMigrateError(
                "the propagation codemod makes a plan it is given: run `apply_edits.ApplyEditsCommand --edits FILE` "
                "with the edit plan `asyncmigrate apply FILE --dry-run --emit-edits FILE` writes"
            )
        path = self.path or ""
        functions, calls, locks = self.propagation.edits_for(path)
        self.functions = {(e.name_line, e.name_col): e for e in functions}
        self.calls = {(e.line, e.col): e for e in calls}
        self.locks = {(e.line, e.col): e for e in locks}
        self.classes = {(e.line, e.name): e for e in self.propagation.class_edits_for(path)}

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        self._load_edits()
        if not (self.functions or self.calls or self.locks or self.classes):
            return tree
        # every edit is keyed by a name token, in the node the edit is made on: walk only toward those lines
        self.edited_lines = sorted({line for line, _ in (*self.functions, *self.calls, *self.locks, *self.classes)})
        return super().transform_module_impl(tree)

    def _key(self, node: cst.CSTNode | None) -> tuple[int, int] | None:
        if node is None:
            return None
        position = self.get_metadata(PositionProvider, node, None)
        return (position.start.line, position.start.column) if position else None

    # --- functions -----------------------------------------------------------------------------
    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        key = self._key(original_node.name) or (0, 0)
        edit = self.functions.get(key)
        if edit is None:
            return updated_node
        self.applied_functions.add(key)
        if original_node.asynchronous is not None:
            return updated_node
        decorators = list(updated_node.decorators)
        if edit.to_async_context_manager:
            decorators = [self._async_context_manager(d) for d in decorators]
        if edit.add_asyncio_mark:
            AddImportsVisitor.add_needed_import(self.context, pytest.MARK_MODULE)
            decorators.append(cst.Decorator(decorator=cst.parse_expression(pytest.ASYNCIO_MARK)))
        returns = updated_node.returns
        if returns is not None and (edit.to_async_context_manager or edit.to_async_generator):
            returns = self._async_return_annotation(returns)
        name = cst.Name(edit.rename) if edit.rename else updated_node.name
        return updated_node.with_changes(
            asynchronous=cst.Asynchronous(), decorators=decorators, returns=returns, name=name
        )

    # --- unittest test cases -------------------------------------------------------------------
    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef) -> cst.ClassDef:
        position = self.get_metadata(PositionProvider, original_node.name, None)
        key = (position.start.line if position else 0, original_node.name.value)
        edit = self.classes.get(key)
        if edit is None:
            return updated_node
        bases = []
        for arg in updated_node.bases:
            value = arg.value
            if arg.keyword is None and _dotted(value) == edit.base:
                self.applied_classes.add(key)
                if isinstance(value, cst.Attribute):
                    value = value.with_changes(attr=cst.Name(unittest.ASYNC_TESTCASE))
                else:
                    AddImportsVisitor.add_needed_import(self.context, unittest.MODULE, unittest.ASYNC_TESTCASE)
                    RemoveImportsVisitor.remove_unused_import(self.context, unittest.MODULE, edit.base[-1])
                    value = cst.Name(unittest.ASYNC_TESTCASE)
                arg = arg.with_changes(value=value)
            bases.append(arg)
        return updated_node.with_changes(bases=bases)

    def _async_context_manager(self, decorator: cst.Decorator) -> cst.Decorator:
        expression = decorator.decorator
        if isinstance(expression, cst.Name) and expression.value == "contextmanager":
            AddImportsVisitor.add_needed_import(self.context, "contextlib", "asynccontextmanager")
            RemoveImportsVisitor.remove_unused_import(self.context, "contextlib", "contextmanager")
            return decorator.with_changes(decorator=cst.Name("asynccontextmanager"))
        if isinstance(expression, cst.Attribute) and expression.attr.value == "contextmanager":
            return decorator.with_changes(decorator=expression.with_changes(attr=cst.Name("asynccontextmanager")))
        return decorator

    def _async_return_annotation(self, annotation: cst.Annotation) -> cst.Annotation:
        node = annotation.annotation
        if not isinstance(node, cst.Subscript):
            return annotation
        head = node.value
        name = head.value if isinstance(head, cst.Name) else head.attr.value if isinstance(head, cst.Attribute) else ""
        if name not in _ASYNC_RETURN_TYPES:
            return annotation
        new_name = _ASYNC_RETURN_TYPES[name]
        elements = list(node.slice)
        if name == "Generator" and len(elements) == 3:  # AsyncGenerator has no return type
            elements = [elements[0], elements[1].with_changes(comma=cst.MaybeSentinel.DEFAULT)]
        if isinstance(head, cst.Name):
            AddImportsVisitor.add_needed_import(self.context, "collections.abc", new_name)
            for module in ("collections.abc", "typing"):
                RemoveImportsVisitor.remove_unused_import(self.context, module, name)
            new_head: cst.BaseExpression = cst.Name(new_name)
        else:
            new_head = cast(cst.Attribute, head).with_changes(attr=cst.Name(new_name))
        return annotation.with_changes(annotation=node.with_changes(value=new_head, slice=elements))

    # --- call sites ----------------------------------------------------------------------------
    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        key = self._key(_token(original_node.func))
        if key is None:
            return updated_node
        lock = self.locks.get(key)
        if lock is not None:
            self.applied_locks.add(key)
            AddImportsVisitor.add_needed_import(self.context, "asyncio")
            RemoveImportsVisitor.remove_unused_import(self.context, "threading")
            return updated_node.with_changes(func=cst.parse_expression("asyncio.Lock"))
        edit = self.calls.get(key)
        if edit is None:
            return updated_node
        if edit.kind == AWAIT:
            self.applied_calls.add(key)
            parent = self.get_metadata(ParentNodeProvider, original_node, None)
            return awaited(updated_node, parenthesize=needs_parentheses_for_await(parent, original_node))
        if edit.kind == ASYNC_VARIANT and edit.replacement:
            self.applied_calls.add(key)
            func: cst.BaseExpression
            if "." in edit.replacement:  # a function: time.sleep -> asyncio.sleep
                module, _, name = edit.replacement.rpartition(".")
                AddImportsVisitor.add_needed_import(self.context, module)
                func = cst.parse_expression(edit.replacement)
            elif isinstance(updated_node.func, cst.Attribute):  # a method of the same object
                func = updated_node.func.with_changes(attr=cst.Name(edit.replacement))
            else:
                func = cst.Name(edit.replacement)
            parent = self.get_metadata(ParentNodeProvider, original_node, None)
            call = updated_node.with_changes(func=func)
            return awaited(call, parenthesize=needs_parentheses_for_await(parent, original_node))
        if edit.kind == ASYNCIO_RUN:
            self.applied_calls.add(key)
            AddImportsVisitor.add_needed_import(self.context, "asyncio")
            return cst.Call(func=cst.parse_expression("asyncio.run"), args=[cst.Arg(updated_node)])
        if edit.kind == UNWRAP_RUN:
            # ``asyncio.run(coro)`` with nothing but the coroutine: ``await coro`` (else left, and reported)
            args = updated_node.args
            if len(args) != 1 or args[0].keyword is not None or args[0].star:
                return updated_node
            self.applied_calls.add(key)
            parent = self.get_metadata(ParentNodeProvider, original_node, None)
            return awaited(args[0].value, parenthesize=needs_parentheses_for_await(parent, original_node))
        if edit.kind == GENEXP_LIST:
            args = updated_node.args
            if len(args) != 1 or not isinstance(args[0].value, cst.GeneratorExp):
                return updated_node
            self.applied_calls.add(key)
            generator = args[0].value
            comprehension = cst.ListComp(elt=generator.elt, for_in=generator.for_in)
            return updated_node.with_changes(args=[args[0].with_changes(value=comprehension)])
        return updated_node  # async with / async for are applied on the enclosing statement

    def _item_is_async(self, item: cst.WithItem) -> bool:
        expression = item.item
        token = _token(expression.func if isinstance(expression, cst.Call) else expression)
        key = self._key(token) or (0, 0)
        edit = self.calls.get(key)
        if edit is not None and edit.kind == ASYNC_WITH:
            self.applied_calls.add(key)
            return True
        return False

    def leave_With(self, original_node: cst.With, updated_node: cst.With) -> cst.With:
        flags = [self._item_is_async(item) for item in original_node.items]
        if not any(flags) or original_node.asynchronous is not None:
            return updated_node
        if all(flags):
            return updated_node.with_changes(asynchronous=cst.Asynchronous())
        # ``with a, b():`` where only b turns async: nest, keeping the order items are entered in
        items = list(updated_node.items)
        runs: list[tuple[bool, list[cst.WithItem]]] = []
        for flag, item in zip(flags, items, strict=True):
            if runs and runs[-1][0] == flag:
                runs[-1][1].append(item)
            else:
                runs.append((flag, [item]))
        body = updated_node.body
        for flag, run in reversed(runs):
            run[-1] = run[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            statement = cst.With(items=run, body=body, asynchronous=cst.Asynchronous() if flag else None)
            body = cst.IndentedBlock(body=[statement])
        outer = cast(cst.IndentedBlock, body).body[0]
        return cast(cst.With, outer).with_changes(leading_lines=updated_node.leading_lines)

    def leave_For(self, original_node: cst.For, updated_node: cst.For) -> cst.For:
        if not isinstance(original_node.iter, cst.Call):
            return updated_node
        key = self._key(_token(original_node.iter.func)) or (0, 0)
        edit = self.calls.get(key)
        if edit is None or edit.kind != ASYNC_FOR:
            return updated_node
        self.applied_calls.add(key)
        return updated_node.with_changes(asynchronous=cst.Asynchronous())

    def leave_CompFor(self, original_node: cst.CompFor, updated_node: cst.CompFor) -> cst.CompFor:
        if not isinstance(original_node.iter, cst.Call):
            return updated_node
        key = self._key(_token(original_node.iter.func)) or (0, 0)
        edit = self.calls.get(key)
        if edit is None or edit.kind != ASYNC_COMP:
            return updated_node
        self.applied_calls.add(key)
        return updated_node.with_changes(asynchronous=cst.Asynchronous())
