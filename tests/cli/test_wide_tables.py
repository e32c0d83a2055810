"""A table printed to a pipe or a file is printed at its own width, every row on one line: the width is read
off the cells' text (``render._table_width_bound``) rather than measured by Rich, and must never be less
than what Rich measures, or rows would fold."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from asyncmigrate import render

ROWS = [
    ["pkg/api/players.py", "3", "unplanned", "12", "player, room"],
    ["pkg/[tenant]/views.py", "-", "pending", "1", ""],
    ["pkg/日本語/モジュール.py", "10", "migrated", "0", "inventory"],
    ["pkg/emoji_🎲/dice.py", "2", "failed (tests failed)", "7", "a\nmuch longer second line of the cell"],
    ["", "", "", "", ""],
    ["pkg/tabbed.py", "1", "pending\t(a tab)", "1", "x\ty"],
]


def _table(kind: str) -> Table:
    table = Table(title="Facade call sites", title_justify="left")
    for name in ("file", "phase", "status", "calls", "repositories"):
        table.add_column(name, justify="right" if name in ("phase", "calls") else "left", overflow="fold")
    for row in ROWS:
        table.add_row(*(Text(cell, style="bold") if kind == "text" else cell.replace("[", "\\[") for cell in row))
    return table


def _printed(table: Table, width: int) -> str:
    out = io.StringIO()
    Console(file=out, width=width, highlight=False, color_system=None).print(table)
    return out.getvalue()


@pytest.mark.parametrize("kind", ["text", "str"])
def test_the_width_read_off_the_cells_is_never_less_than_richs_and_prints_the_same(kind: str) -> None:
    table = _table(kind)
    bound = render._table_width_bound(table)
    console = Console(file=io.StringIO(), width=80)
    measured = Measurement.get(console, console.options.update(width=100_000), table).maximum
    assert bound is not None and bound >= measured
    printed = _printed(table, max(bound, 80))
    assert printed == _printed(table, max(measured, 80))
    assert printed == _printed(table, 10_000)  # its own width: nothing folded, nothing stretched


def test_a_table_with_other_cells_or_that_expands_is_left_to_rich() -> None:
    expanding = Table(expand=True)
    expanding.add_column("x")
    expanding.add_row("a")
    assert render._table_width_bound(expanding) is None
    nested = Table()
    nested.add_column("x")
    nested.add_row(_table("text"))
    assert render._table_width_bound(nested) is None
