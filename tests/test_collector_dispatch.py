"""The LibCST collector's dispatch calls what ``CSTVisitor`` would call, field hooks included."""

from __future__ import annotations

import libcst as cst

from asyncmigrate.analysis.collector import _CachedDispatch, _no_field_hook


class _Plain(_CachedDispatch):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def visit_Name(self, node: cst.Name) -> None:
        self.seen.append(node.value)


class _WithFieldHook(_Plain):
    def visit_Call_func(self, node: cst.Call) -> None:
        self.seen.append("func of a call")

    def leave_Call_args(self, node: cst.Call) -> None:
        self.seen.append("after the args")


def test_a_visitor_without_field_hooks_skips_them_and_one_with_them_gets_them_called() -> None:
    module = cst.parse_module("f(x)\n")
    plain, hooked = _Plain(), _WithFieldHook()
    module.visit(plain)
    module.visit(hooked)
    assert _Plain.on_visit_attribute is _no_field_hook
    assert _WithFieldHook.on_visit_attribute is not _no_field_hook
    assert plain.seen == ["f", "x"]
    assert hooked.seen == ["func of a call", "f", "x", "after the args"]
