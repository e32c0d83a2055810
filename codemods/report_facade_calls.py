"""Report every facade call site as a codemod warning, changing nothing.

The same collector ``asyncmigrate scan`` uses, packaged as a LibCST codemod so it runs under
LibCST's own runner too (``python -m libcst.tool codemod -x
asyncmigrate.codemods.report_facade_calls.ReportFacadeCallsCommand --plan migration_plan.yaml server``); the
scan benchmark measures exactly that against ``asyncmigrate scan``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import libcst as cst
from libcst.codemod import CodemodContext, VisitorBasedCodemodCommand
from libcst.metadata import PositionProvider, ScopeProvider

from asyncmigrate.analysis.collector import FacadeCallCollector
from asyncmigrate.analysis.facade import FacadeSpec
from asyncmigrate.config.plan import find_plan, load_plan


class ReportFacadeCallsCommand(VisitorBasedCodemodCommand):
    DESCRIPTION = "Report each call that reaches the sync facade (file:line, method, target); no rewrite."
    METADATA_DEPENDENCIES = (ScopeProvider, PositionProvider)

    def __init__(self, context: CodemodContext, plan: str | None = None) -> None:
        super().__init__(context)
        plan_path = Path(plan) if plan else find_plan(Path.cwd())
        self.plan = load_plan(plan_path, check_files=False)
        self.spec = FacadeSpec.from_plan(self.plan)

    @staticmethod
    def add_args(arg_parser: argparse.ArgumentParser) -> None:
        arg_parser.add_argument("--plan", dest="plan", default=None, help="migration_plan.yaml to read the facade from")

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        filename = self.context.filename or "<stdin>"
        try:
            relative = Path(filename).resolve().relative_to(self.plan.root.resolve()).as_posix()
        except ValueError:
            relative = filename
        collector = FacadeCallCollector(self.spec, relative)
        if self.context.wrapper is not None:
            self.context.wrapper.visit(collector)
        for call in collector.calls:
            target = call.target or "unmapped"
            blocking = " (blocks the event loop)" if call.blocks_event_loop else ""
            self.warn(f"{call.line}:{call.column + 1}: {call.receiver}.{call.method} -> {target}{blocking}")
        return tree
