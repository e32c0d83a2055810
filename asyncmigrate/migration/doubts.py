"""Doubts: calls that *may* reach a function turning async, where the call graph cannot say.

A static call graph of Python misses edges. Three kinds are spelled like a call to a function that
turns async and cannot be decided here:

- ``unknown receiver``: ``thing.load()`` where ``thing`` has no known type (no annotation, ``Any``, an
  attribute set from nothing the graph can follow);
- ``getattr``: ``getattr(obj, "load")(...)`` with a constant name;
- ``several candidates``: the receiver may hold instances of several classes, and the ``load`` of some
  turns async while the ``load`` of others does not (awaiting one breaks, not awaiting the other leaves
  a coroutine un-awaited).

Each doubt is a blocker unless the plan's ``accepted_doubts`` names it (per call site or per pattern,
with the reason); an accepted doubt is recorded and stays visible in ``check`` and ``report``.
Propagation and ``check`` both classify calls here, so they agree on what a doubt is.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from asyncmigrate.analysis.callgraph import GETATTR, CallRef, FunctionSummary, ModuleSummary, Project, Resolved, Value
from asyncmigrate.config.plan import AcceptedDoubt

UNKNOWN_RECEIVER = "doubt_unknown_receiver"
GETATTR_CALL = "doubt_getattr"
SEVERAL_CANDIDATES = "doubt_several_candidates"
KINDS = (UNKNOWN_RECEIVER, GETATTR_CALL, SEVERAL_CANDIDATES)

# Annotations that say nothing about the receiver: a call on them may reach anything.
_UNKNOWN_TYPES = frozenset({"typing.Any", "typing_extensions.Any", "Any", "object", "builtins.object"})


@dataclass(frozen=True)
class Doubt:
    path: str
    line: int
    col: int
    kind: str
    call: str  # the callee as written: "thing.load", "getattr(...).load"
    caller: str  # function id, or "<module>"
    callee: str  # the function turning async it may reach
    candidates: tuple[str, ...] = ()  # several candidates: every function id the call may reach

    @property
    def site(self) -> str:
        return f"{self.path}:{self.line}"

    def message(self) -> str:
        why = {
            UNKNOWN_RECEIVER: "the receiver's type is unknown",
            GETATTR_CALL: "getattr hides which object's method it is",
            SEVERAL_CANDIDATES: f"it may call any of {', '.join(self.candidates)}, and not all of them turn async",
        }[self.kind]
        return f"{self.call}() may call {self.callee}, which turns async, and cannot be followed: {why}"

    def fix(self) -> str:
        follow = {
            UNKNOWN_RECEIVER: "annotate the receiver with its class so the call is followed (and awaited)",
            GETATTR_CALL: "call the method by name (`obj.method(...)`) so the call is followed (and awaited)",
            SEVERAL_CANDIDATES: "give the receiver one class (or make every candidate async) so the call is followed",
        }[self.kind]
        return (
            f"{follow}; or, if it cannot reach {self.callee}, accept it in the plan: "
            f'`accepted_doubts: [{{at: "{self.site}", reason: "..."}}]` '
            f'(or `pattern: "{self.caller} -> {self.callee}"`)'
        )

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.line,
            "kind": self.kind,
            "call": self.call,
            "caller": self.caller,
            "callee": self.callee,
            "candidates": list(self.candidates),
        }


@dataclass(frozen=True)
class AcceptedUse:
    """A doubt the plan accepts: the apply goes on, and the doubt is recorded."""

    doubt: Doubt
    acceptance: AcceptedDoubt

    def describe(self) -> str:
        return f"{self.doubt.site}: {self.doubt.kind}: {self.doubt.call}() may call {self.doubt.callee}; " + (
            f"accepted ({self.acceptance.reason})"
        )

    def to_json(self) -> dict[str, object]:
        return {
            **self.doubt.to_json(),
            "accepted": self.acceptance.at or self.acceptance.pattern,
            "reason": self.acceptance.reason,
        }


def acceptance_for(doubt: Doubt, accepted: Sequence[AcceptedDoubt]) -> AcceptedDoubt | None:
    return next((a for a in accepted if a.matches(doubt.path, doubt.line, doubt.caller, doubt.callee)), None)


def _call_text(call: CallRef) -> str:
    if call.chain[0] == GETATTR:
        return f'getattr(..., "{call.chain[1]}")'
    if call.receiver_call is not None:
        return f"{'.'.join(call.receiver_call)}().{call.chain[-1]}"
    return ".".join(call.chain)


def _name_values(project: Project, name: str, module: ModuleSummary, function: FunctionSummary | None) -> list[Value]:
    """Every value ``name`` may hold (``Project.value_of_name`` keeps the first one only)."""
    scope = function
    while scope is not None:
        if name in scope.local_defs or (scope.class_id and scope.params and name == scope.params[0]):
            value = project.value_of_name(name, module, function)
            return [value] if value else []
        if name in scope.params:
            return project.evaluate(scope.param_types.get(name, ()), module, scope)
        if name in scope.local_types:
            return project.evaluate(scope.local_types[name], module, scope)
        scope = project.functions.get(scope.parent_id) if scope.parent_id else None
    if name in module.globals and name not in module.top_level and name not in module.imports:
        return project.evaluate(module.globals[name], module, None)
    value = project.value_of_name(name, module, function)
    return [value] if value else []


def _attribute_values(project: Project, value: Value, attr: str) -> list[Value]:
    kind, name = value
    if kind in ("instance", "class"):
        for class_id in project.mro(name):
            cls = project.classes[class_id]
            if attr in cls.methods:
                return [("function", cls.methods[attr])]
            if attr in cls.attr_types:
                init = project.functions.get(cls.methods.get("__init__", ""))
                return project.evaluate(cls.attr_types[attr], project.by_module[cls.module], init)
        return []
    found = project.attribute(value, attr)
    return [found] if found else []


def receiver_values(
    project: Project, call: CallRef, module: ModuleSummary, caller: FunctionSummary | None
) -> list[Value]:
    """What the receiver of ``a.b.m()`` may be: every value, not only the first."""
    values = _name_values(project, call.chain[0], module, caller)
    for attr in call.chain[1:-1]:
        values = [found for value in values for found in _attribute_values(project, value, attr)]
    return list(dict.fromkeys(values))


def candidates(project: Project, call: CallRef, module: ModuleSummary, caller: FunctionSummary | None) -> list[str]:
    """The project functions a method call may reach, one per receiver value that has the method."""
    if len(call.chain) < 2 or call.chain[0] == GETATTR or call.receiver_call is not None:
        return []
    found: list[str] = []
    for value in receiver_values(project, call, module, caller):
        for target in _attribute_values(project, value, call.chain[-1]):
            if target[0] == "function" and target[1] not in found:
                found.append(target[1])
    return found


def _unknown(values: Iterable[Value]) -> bool:
    """No value at all, or only values that say nothing (``Any``, ``object``)."""
    known = [v for v in values if not (v[0] in ("external", "external_instance") and v[1] in _UNKNOWN_TYPES)]
    return not known


def unresolved_doubt(
    project: Project,
    module: ModuleSummary,
    caller: FunctionSummary | None,
    call: CallRef,
    resolved: Resolved | None,
    target: FunctionSummary,
) -> Doubt | None:
    """The doubt of a call spelled like ``target`` that resolution could not follow (None: no doubt)."""
    if not call.is_call or call.awaited or resolved is not None:
        return None
    caller_id = caller.id if caller else "<module>"
    if call.chain[0] == GETATTR:
        kind = GETATTR_CALL
    elif call.receiver_call is not None:
        return None  # ``Cls().m()`` with an unknown Cls: an external call
    elif len(call.chain) == 1:
        return None  # an unresolved bare name is a different function (a builtin or a local value)
    elif not _unknown(receiver_values(project, call, module, caller)):
        return None  # the receiver is known, and is not the project's (a library object, a mock)
    else:
        kind = UNKNOWN_RECEIVER
    return Doubt(module.path, call.line, call.col, kind, _call_text(call), caller_id, target.id)


def several_doubt(
    project: Project,
    module: ModuleSummary,
    caller: FunctionSummary | None,
    call: CallRef,
    target: FunctionSummary,
    is_async: Iterable[str],
) -> Doubt | None:
    """The doubt of a call whose receiver may hold several classes, when only some of their methods are
    async (``is_async``: the function ids that are or turn async)."""
    if not call.is_call:
        return None
    found = candidates(project, call, module, caller)
    if target.id not in found or len(found) < 2:
        return None
    asynchronous = set(is_async)
    if all(f in asynchronous for f in found):
        return None
    caller_id = caller.id if caller else "<module>"
    return Doubt(
        module.path, call.line, call.col, SEVERAL_CANDIDATES, _call_text(call), caller_id, target.id, tuple(found)
    )
