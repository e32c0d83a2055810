"""The exact outputs of report (every format, SARIF with its fixes), check (table and JSON) and graph on the
shop, kept in tests/snapshots/ and reviewed as code: a change of any output shows as a diff there.

Rewrite them with ``python -m pytest tests/test_snapshots.py --update-snapshots`` (or ``UPDATE_SNAPSHOTS=1``),
then read the diff before committing it. ``normalise`` takes out what differs between runs: the temporary
directory, timestamps and the tool's version.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from asyncmigrate import __version__
from asyncmigrate.cli import app

SNAPSHOTS = Path(__file__).parent / "snapshots" / "shop"

# (snapshot file, command line); the shop with handlers.py marked migrated while it still calls the
# facade, so that check has findings and every report format shows a regression next to pending work
COMMANDS = [
    ("report.md", ["report", "--format", "markdown"]),
    ("report.json", ["report", "--format", "json"]),
    ("report.junit.xml", ["report", "--format", "junit"]),
    ("report.sarif", ["report", "--format", "sarif", "--fixes"]),
    ("check.txt", ["check"]),
    ("check.json", ["check", "--format", "json"]),
    ("graph-service.txt", ["graph", "shop/service.py"]),
    ("graph-service.json", ["graph", "shop/service.py", "--format", "json"]),
]

_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?")


def normalise(text: str, root: Path) -> str:
    """The output with the run's own values replaced by placeholders."""
    for where in {str(root.resolve()), str(root)}:
        text = text.replace(where, "<ROOT>")
    text = _TIMESTAMP.sub("<TIMESTAMP>", text)
    return text.replace(f'"{__version__}"', '"<VERSION>"')


@pytest.fixture
def regressed_shop(shop: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    plan = shop / "migration_plan.yaml"
    plan.write_text(plan.read_text().replace("status: pending", "status: migrated", 1))
    monkeypatch.chdir(shop)
    monkeypatch.setenv("COLUMNS", "120")  # tables print one row a line whatever the terminal
    return shop


@pytest.mark.parametrize(("name", "args"), COMMANDS, ids=[name for name, _ in COMMANDS])
def test_output_matches_its_snapshot(regressed_shop: Path, update_snapshots: bool, name: str, args: list[str]) -> None:
    result = CliRunner().invoke(app, [*args, "--no-cache"] if args[0] != "graph" else args)
    assert result.exit_code in (0, 1), result.output  # check exits 1 on its findings
    actual = normalise(result.stdout, regressed_shop)
    snapshot = SNAPSHOTS / name
    if update_snapshots:
        snapshot.parent.mkdir(parents=True, exist_ok=True)
        snapshot.write_text(actual, encoding="utf-8")
        return
    assert snapshot.exists(), f"no snapshot {snapshot}; create it with --update-snapshots and review it"
    expected = snapshot.read_text(encoding="utf-8")
    assert actual == expected, f"{name} changed; if on purpose, run with --update-snapshots and review the diff"
