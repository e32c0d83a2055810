"""The edit plan: every edit one ``apply`` makes, as data, between the analysis and the rewriting.

``compute_change`` decides the change (the facade call sites to rewrite, the propagation, the test
doubles to migrate) and records it here; the ``apply_edits`` codemod makes it, parsing each file once,
in ``apply`` and under ``python -m libcst.tool codemod`` alike. The document is versioned JSON
(``asyncmigrate/schemas/edits.schema.json``).

A plan is a list of steps, one per applied target, in the order ``apply`` takes them; a step holds
the edits of every file that target's change touches. Each edit names its node by the line and column
of its start as LibCST's ``PositionProvider`` reports them in the text the step starts from, the kind
of node and the source text expected there: before a step is made, every expected text is checked, so
an edit whose file changed since the plan was made is refused with file:line instead of landing on
another node. A blocked step is kept (its blockers say why) but never made, as ``apply`` writes nothing
for it.

A facade call rewrite carries its decision, made once by ``compute_change`` with the rewrite codemod's
own decision code: the replacement source text of each node it replaces, and, as separate edits of the
file, the statements it inserts or removes (a repository binding after the statement that obtained the
facade), the parameters it lays out anew (a ``Depends`` parameter) and the imports it adds or removes.
The rewrite runs on the text the step's propagation leaves, so these edits name their nodes by a
:class:`Span` of that text (start, end, kind, first line): making them needs neither the migration plan
nor the analysis, only the propagation edits of the same step, made first.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from asyncmigrate.errors import AsyncMigrateError
from asyncmigrate.migration.propagate import Blocker, CallEdit, ClassEdit, FunctionEdit, LockEdit, PropagationPlan

EDIT_PLAN_FORMAT = "asyncmigrate-edit-plan"
EDIT_PLAN_VERSION = 2  # 2: call rewrites carry their replacement text, statement, parameter and import edits

# node kinds an edit names
NAME = "Name"  # a function's, a class's or a callee's name token
ATTRIBUTE = "Attribute"  # ``receiver.method`` of a facade call
CALL = "Call"  # ``getattr(receiver, "method")``; as a Span: a call replaced
AWAIT = "Await"  # an ``await`` dropped with the call it awaited (a sync target)
STATEMENT = "SimpleStatementLine"  # a statement a binding goes after, or that goes
FUNCTION = "FunctionDef"  # a function whose parameters are laid out anew

ADD = "add"  # an import added (as AddImportsVisitor adds it: nothing when the module has it already)
REMOVE_UNUSED = "remove_unused"  # an import removed once nothing uses it (as RemoveImportsVisitor does)

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def source_lines(code: str) -> list[str]:
    """The lines of ``code`` as LibCST numbers them (only ``\\n``, ``\\r\\n`` and ``\\r`` end a line)."""
    return _LINE_BREAK.split(code)


@dataclass(frozen=True)
class NodeRef:
    """Where an edit lands: the start of a node as LibCST's PositionProvider reports it, the node's kind
    and the source text expected to start there (its first line when it spans several)."""

    line: int
    column: int
    kind: str
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "kind": self.kind, "text": self.text}

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> NodeRef:
        return NodeRef(int(data["line"]), int(data["column"]), str(data["kind"]), str(data["text"]))

    def mismatch(self, lines: Sequence[str]) -> str | None:
        """Why the text no longer holds the node (None when it does)."""
        if not 1 <= self.line <= len(lines):
            return f"line {self.line} is past the end of the file"
        found = lines[self.line - 1][self.column : self.column + len(self.text)]
        if found != self.text:
            return f"expected `{self.text}` at column {self.column}, found `{found}`"
        return None


@dataclass(frozen=True)
class Span:
    """A node of the text the step's propagation leaves: its start and end as LibCST's PositionProvider
    reports them, its kind, and the source text it starts with (up to its end or the end of its line)."""

    line: int
    column: int
    end_line: int
    end_column: int
    kind: str
    text: str

    @property
    def key(self) -> tuple[str, int, int, int, int]:
        return (self.kind, self.line, self.column, self.end_line, self.end_column)

    def to_json(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "kind": self.kind,
            "text": self.text,
        }

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> Span:
        return Span(
            int(data["line"]),
            int(data["column"]),
            int(data["end_line"]),
            int(data["end_column"]),
            str(data["kind"]),
            str(data["text"]),
        )

    @staticmethod
    def of(kind: str, start: tuple[int, int], end: tuple[int, int], lines: Sequence[str]) -> Span:
        """The span from ``start`` to ``end`` (line, column) of the text split into ``lines``."""
        text = lines[start[0] - 1] if 1 <= start[0] <= len(lines) else ""
        text = text[start[1] : end[1]] if end[0] == start[0] else text[start[1] :]
        return Span(start[0], start[1], end[0], end[1], kind, text)

    def mismatch(self, lines: Sequence[str]) -> str | None:
        """Why the text no longer holds the node (None when it does)."""
        found = Span.of(self.kind, (self.line, self.column), (self.end_line, self.end_column), lines).text
        if found == self.text:
            return None
        return f"expected `{self.text}` at line {self.line} column {self.column}, found `{found}`"


@dataclass(frozen=True)
class Replacement:
    """A node replaced by the parsed source text: what the rewrite wrote in its place."""

    node: Span
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"node": self.node.to_json(), "text": self.text}

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> Replacement:
        return Replacement(Span.from_json(data["node"]), str(data["text"]))


@dataclass(frozen=True)
class StatementEdit:
    """Statements a rewrite inserts right after a statement of a block (the repository binding after the
    statement that obtained the facade), and whether that statement goes (the facade is no longer used)."""

    node: Span  # the statement, a SimpleStatementLine
    remove: bool
    insert_after: tuple[str, ...]  # each one statement's source

    def to_json(self) -> dict[str, Any]:
        return {"node": self.node.to_json(), "remove": self.remove, "insert_after": list(self.insert_after)}

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> StatementEdit:
        return StatementEdit(
            Span.from_json(data["node"]), bool(data["remove"]), tuple(str(t) for t in data["insert_after"])
        )


@dataclass(frozen=True)
class ParameterEdit:
    """A function's parameters laid out anew by a rewrite (a repository ``Depends`` parameter added next
    to the facade's, which goes when nothing else uses it): the new text between the parentheses."""

    node: Span  # the FunctionDef
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"node": self.node.to_json(), "text": self.text}

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> ParameterEdit:
        return ParameterEdit(Span.from_json(data["node"]), str(data["text"]))


@dataclass(frozen=True)
class ImportEdit:
    """An import a rewrite adds (ADD) or removes once unused (REMOVE_UNUSED), as LibCST's
    AddImportsVisitor / RemoveImportsVisitor are asked for it: ``import module`` when ``name`` is None."""

    action: str
    module: str
    name: str | None = None
    alias: str | None = None
    relative: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "module": self.module,
            "name": self.name,
            "alias": self.alias,
            "relative": self.relative,
        }

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> ImportEdit:
        action = str(data["action"])
        if action not in (ADD, REMOVE_UNUSED):
            raise ValueError(f"unknown import action {action!r}")
        name, alias = data.get("name"), data.get("alias")
        return ImportEdit(
            action,
            str(data["module"]),
            None if name is None else str(name),
            None if alias is None else str(alias),
            int(data.get("relative", 0)),
        )


@dataclass(frozen=True)
class CallRewrite:
    """A facade call rewritten into a repository call, as the analysis decided it: named by its node in
    the text the step starts from, replaced (``replace``) in the text the step's propagation leaves."""

    node: NodeRef  # ``receiver.method`` (or the ``getattr``) of the facade call
    function: str  # the qualname of the function it sits in
    receiver: str
    method: str
    target: str  # "repository.method"
    add_await: bool  # the repository call is awaited and the old expression was not an awaitable
    wrapper: str | None = None  # the thread hop the call went through, which goes
    is_reference: bool = False  # ``m = facade.m`` called later: each call is rewritten
    replace: tuple[Replacement, ...] = ()  # the nodes replaced (a bound method: each of its calls)

    def to_json(self) -> dict[str, Any]:
        return {
            "node": self.node.to_json(),
            "function": self.function,
            "receiver": self.receiver,
            "method": self.method,
            "target": self.target,
            "add_await": self.add_await,
            "wrapper": self.wrapper,
            "is_reference": self.is_reference,
            "replace": [r.to_json() for r in self.replace],
        }

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> CallRewrite:
        return CallRewrite(
            NodeRef.from_json(data["node"]),
            str(data["function"]),
            str(data["receiver"]),
            str(data["method"]),
            str(data["target"]),
            bool(data["add_await"]),
            data.get("wrapper"),
            bool(data.get("is_reference", False)),
            tuple(Replacement.from_json(r) for r in data["replace"]),
        )

    @property
    def what(self) -> str:
        return f"rewrite of {self.receiver}.{self.method}() in {self.function}"


@dataclass
class FileEdits:
    """Every edit of one file in one step; the texts they expect are those of the file as the step finds it."""

    path: str  # root-relative, POSIX
    sha256: str  # of the file's bytes as the step finds it
    rewrites: list[CallRewrite] = field(default_factory=list)
    functions: list[FunctionEdit] = field(default_factory=list)  # ``async def`` (and what comes with it)
    calls: list[CallEdit] = field(default_factory=list)  # ``await``, ``async with``/``for``, ``asyncio.run``
    locks: list[LockEdit] = field(default_factory=list)
    classes: list[ClassEdit] = field(default_factory=list)  # TestCase -> IsolatedAsyncioTestCase
    test_doubles: tuple[str, ...] = ()  # functions turning async whose doubles become AsyncMock
    facade_doubles: bool = False  # the step's facade doubles are carried over in this file
    refs: dict[str, NodeRef] = field(default_factory=dict)  # "function:L:C" etc. -> identity, for propagation edits
    # what the call rewrites do besides replacing their nodes, in the text the propagation leaves
    statements: list[StatementEdit] = field(default_factory=list)
    parameters: list[ParameterEdit] = field(default_factory=list)
    imports: list[ImportEdit] = field(default_factory=list)

    @property
    def propagates(self) -> bool:
        return bool(self.functions or self.calls or self.locks or self.classes)

    @property
    def edits_core(self) -> bool:
        """Does the step make core edits here: propagation, call rewrites, test doubles (the facade's come after)?"""
        return bool(self.propagates or self.rewrites or self.test_doubles)

    @property
    def rewrite_edits(self) -> bool:
        """The call rewrites' recorded edits, made after the propagation."""
        return bool(any(r.replace for r in self.rewrites) or self.statements or self.parameters or self.imports)

    def propagation(self) -> PropagationPlan:
        """The propagation edits of this file, in the form the propagation codemod reads."""
        return PropagationPlan(
            function_edits=list(self.functions),
            call_edits=list(self.calls),
            lock_edits=list(self.locks),
            class_edits=list(self.classes),
        )

    def identities(self) -> list[tuple[NodeRef, str]]:
        """Every node this file's edits name, with what the edit is (for a refusal)."""
        found = [(r.node, f"rewrite of {r.receiver}.{r.method}()") for r in self.rewrites]
        found += [(ref, f"{key.split(':', 1)[0]} edit") for key, ref in sorted(self.refs.items())]
        return found

    def stale(self, data: bytes) -> str | None:
        """``path:line: why`` when ``data`` is not the text this file's edits were planned on; None otherwise."""
        if hashlib.sha256(data).hexdigest() == self.sha256:
            return None
        lines = source_lines(data.decode("utf-8", "surrogateescape"))
        for ref, what in sorted(self.identities(), key=lambda item: (item[0].line, item[0].column)):
            problem = ref.mismatch(lines)
            if problem is not None:
                return f"{self.path}:{ref.line}: stale edit ({what}): {problem}"
        first = min((ref.line for ref, _ in self.identities()), default=1)
        return f"{self.path}:{first}: stale edit plan: the file changed since the plan was made"

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "sha256": self.sha256,
            "rewrites": [r.to_json() for r in self.rewrites],
            "statements": [e.to_json() for e in self.statements],
            "parameters": [e.to_json() for e in self.parameters],
            "imports": [e.to_json() for e in self.imports],
            "functions": [_function_json(e, self.refs) for e in self.functions],
            "calls": [_call_json(e, self.refs) for e in self.calls],
            "locks": [_lock_json(e, self.refs) for e in self.locks],
            "classes": [_class_json(e, self.refs) for e in self.classes],
            "test_doubles": list(self.test_doubles),
            "facade_doubles": self.facade_doubles,
        }

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> FileEdits:
        path = str(data["path"])
        edits = FileEdits(path, str(data["sha256"]))
        edits.rewrites = [CallRewrite.from_json(r) for r in data.get("rewrites", [])]
        edits.statements = [StatementEdit.from_json(e) for e in data.get("statements", [])]
        edits.parameters = [ParameterEdit.from_json(e) for e in data.get("parameters", [])]
        edits.imports = [ImportEdit.from_json(e) for e in data.get("imports", [])]
        for item in data.get("functions", []):
            edits.functions.append(
                FunctionEdit(
                    path,
                    str(item["function"]),
                    int(item["node"]["line"]),
                    int(item["node"]["column"]),
                    bool(item.get("to_async_context_manager", False)),
                    bool(item.get("to_async_generator", False)),
                    bool(item.get("add_asyncio_mark", False)),
                    item.get("rename"),
                )
            )
            edits.refs[_key("function", edits.functions[-1].name_line, edits.functions[-1].name_col)] = (
                NodeRef.from_json(item["node"])
            )
        for item in data.get("calls", []):
            node = NodeRef.from_json(item["node"])
            edits.calls.append(
                CallEdit(path, node.line, node.column, str(item["kind"]), str(item["callee"]), item.get("replacement"))
            )
            edits.refs[_key("call", node.line, node.column)] = node
        for item in data.get("locks", []):
            node = NodeRef.from_json(item["node"])
            edits.locks.append(LockEdit(path, node.line, node.column, str(item["lock"])))
            edits.refs[_key("lock", node.line, node.column)] = node
        for item in data.get("classes", []):
            node = NodeRef.from_json(item["node"])
            edits.classes.append(
                ClassEdit(path, str(item["class_id"]), node.line, node.text, tuple(str(p) for p in item["base"]))
            )
            edits.refs[_key("class", node.line, node.column)] = node
        edits.test_doubles = tuple(str(f) for f in data.get("test_doubles", []))
        edits.facade_doubles = bool(data.get("facade_doubles", False))
        return edits


def _key(kind: str, line: int, column: int) -> str:
    return f"{kind}:{line}:{column}"


def _ref(refs: Mapping[str, NodeRef], kind: str, line: int, column: int) -> dict[str, Any]:
    ref = refs.get(_key(kind, line, column))
    if ref is None:
        raise AsyncMigrateError(f"the {kind} edit at line {line} has no node identity; this is a bug")
    return ref.to_json()


def _function_json(e: FunctionEdit, refs: Mapping[str, NodeRef]) -> dict[str, Any]:
    return {
        "node": _ref(refs, "function", e.name_line, e.name_col),
        "function": e.function,
        "to_async_context_manager": e.to_async_context_manager,
        "to_async_generator": e.to_async_generator,
        "add_asyncio_mark": e.add_asyncio_mark,
        "rename": e.rename,
    }


def _call_json(e: CallEdit, refs: Mapping[str, NodeRef]) -> dict[str, Any]:
    return {"node": _ref(refs, "call", e.line, e.col), "kind": e.kind, "callee": e.callee, "replacement": e.replacement}


def _lock_json(e: LockEdit, refs: Mapping[str, NodeRef]) -> dict[str, Any]:
    return {"node": _ref(refs, "lock", e.line, e.col), "lock": e.lock}


def _class_json(e: ClassEdit, refs: Mapping[str, NodeRef]) -> dict[str, Any]:
    column = min((int(k.rsplit(":", 1)[1]) for k in refs if k.startswith(f"class:{e.line}:")), default=0)
    return {"node": _ref(refs, "class", e.line, column), "class_id": e.class_id, "base": list(e.base)}


def name_refs(data: bytes, edits: FileEdits) -> None:
    """Give every propagation edit of ``edits`` its node identity, read from the text it was planned on:
    the name token at the edit's line and column (a class edit is keyed by its line and name)."""
    lines = source_lines(data.decode("utf-8", "surrogateescape"))

    def token(line: int, column: int) -> str:
        text = lines[line - 1] if 1 <= line <= len(lines) else ""
        end = column
        while end < len(text) and (text[end].isalnum() or text[end] == "_"):
            end += 1
        return text[column:end]

    for f in edits.functions:
        edits.refs[_key("function", f.name_line, f.name_col)] = NodeRef(
            f.name_line, f.name_col, NAME, token(f.name_line, f.name_col)
        )
    for c in edits.calls:
        edits.refs[_key("call", c.line, c.col)] = NodeRef(c.line, c.col, NAME, token(c.line, c.col))
    for lock in edits.locks:
        edits.refs[_key("lock", lock.line, lock.col)] = NodeRef(lock.line, lock.col, NAME, token(lock.line, lock.col))
    for k in edits.classes:
        text = lines[k.line - 1] if 1 <= k.line <= len(lines) else ""
        column = _word_at(text, k.name)
        edits.refs[_key("class", k.line, column)] = NodeRef(k.line, column, NAME, k.name)


def _word_at(text: str, word: str) -> int:
    """The column of ``word`` after ``class`` on a class statement's name line."""
    start = text.find("class ")
    start = 0 if start < 0 else start + len("class ")
    found = text.find(word, start)
    return found if found >= 0 else 0


@dataclass
class Step:
    """The edits of one applied target; blocked, it is shown but never made."""

    target: str
    files: list[FileEdits] = field(default_factory=list)
    blockers: list[Blocker] = field(default_factory=list)
    facade_doubles: dict[str, Any] | None = None  # the codemod's input, as ``FacadeDoubles.to_json`` gives it

    def file(self, path: str) -> FileEdits | None:
        return next((f for f in self.files if f.path == path), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "blocked": bool(self.blockers),
            "blockers": [b.to_json() for b in self.blockers],
            "facade_doubles": self.facade_doubles,
            "files": [f.to_json() for f in self.files],
        }

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> Step:
        step = Step(str(data["target"]))
        step.files = [FileEdits.from_json(f) for f in data.get("files", [])]
        step.blockers = [
            Blocker(str(b["path"]), int(b["line"]), str(b["kind"]), str(b["message"]), tuple(b["chain"]), str(b["fix"]))
            for b in data.get("blockers", [])
        ]
        step.facade_doubles = data.get("facade_doubles")
        return step


@dataclass
class EditPlan:
    """A whole edit plan: the migration plan it was made with (pinned by hash) and its steps in order."""

    plan_file: str  # root-relative
    plan_sha256: str
    steps: list[Step] = field(default_factory=list)

    def paths(self) -> list[str]:
        return sorted({f.path for s in self.steps for f in s.files})

    def for_path(self, path: str) -> list[tuple[Step, FileEdits]]:
        """The unblocked steps that edit ``path``, in order."""
        found = []
        for step in self.steps:
            if step.blockers:
                continue
            edits = step.file(path)
            if edits is not None:
                found.append((step, edits))
        return found

    def to_json(self) -> dict[str, Any]:
        return {
            "format": EDIT_PLAN_FORMAT,
            "version": EDIT_PLAN_VERSION,
            "plan": {"path": self.plan_file, "sha256": self.plan_sha256},
            "steps": [s.to_json() for s in self.steps],
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, sort_keys=True) + "\n"

    @staticmethod
    def from_json(data: Any, origin: str = "edit plan") -> EditPlan:
        if not isinstance(data, dict) or data.get("format") != EDIT_PLAN_FORMAT:
            raise AsyncMigrateError(f"{origin}: not an asyncmigrate edit plan")
        if data.get("version") != EDIT_PLAN_VERSION:
            raise AsyncMigrateError(
                f"{origin}: edit plan version {data.get('version')!r}; this asyncmigrate reads version "
                f"{EDIT_PLAN_VERSION} (emit it again with `apply --dry-run --emit-edits`)"
            )
        try:
            plan = EditPlan(str(data["plan"]["path"]), str(data["plan"]["sha256"]))
            plan.steps = [Step.from_json(s) for s in data["steps"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise AsyncMigrateError(f"{origin}: malformed edit plan ({type(exc).__name__}: {exc})") from None
        return plan

    @staticmethod
    def load(path: str) -> EditPlan:
        try:
            with open(path, encoding="utf-8") as handle:
                data = json.load(handle)
        except OSError as exc:
            raise AsyncMigrateError(f"{path}: cannot read the edit plan: {exc.strerror}") from None
        except json.JSONDecodeError as exc:
            raise AsyncMigrateError(f"{path}:{exc.lineno}: not JSON: {exc.msg}") from None
        return EditPlan.from_json(data, path)


def file_edits(
    path: str,
    data: bytes,
    propagation: PropagationPlan,
    rewrites: Iterable[CallRewrite] = (),
    test_doubles: Sequence[str] = (),
    facade_doubles: bool = False,
) -> FileEdits:
    """One file's edits in a step, with the identity of every node they name read from ``data``."""
    functions, calls, locks = propagation.edits_for(path)
    edits = FileEdits(
        path,
        hashlib.sha256(data).hexdigest(),
        rewrites=list(rewrites),
        functions=functions,
        calls=calls,
        locks=locks,
        classes=propagation.class_edits_for(path),
        test_doubles=tuple(test_doubles),
        facade_doubles=facade_doubles,
    )
    name_refs(data, edits)
    return edits
