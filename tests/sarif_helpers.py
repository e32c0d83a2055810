"""SARIF for the tests: validation against the official 2.1.0 schema, and applying a result's fix the way a
consumer (a code-scanning autofix, an editor's quick fix) would: every replacement of every artifact
change, each region read against the original text.

Also run by ``scripts/check_sarif_fixes.py`` on the whole bundled server.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

SCHEMA_PATH = Path(__file__).parent / "data" / "schemas" / "sarif-schema-2.1.0.json"

_LINE_START = re.compile(r"\r\n|\r|\n")


@cache
def sarif_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


def validate_sarif(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Validate against the official schema plus what it cannot say; return the run's results."""
    validator = jsonschema.Draft4Validator(sarif_schema(), format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])
    (run,) = document["runs"]
    base_ids = run["originalUriBaseIds"]
    rules = run["tool"]["driver"]["rules"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        locations = [loc["physicalLocation"]["artifactLocation"] for loc in result["locations"]]
        changes = [c["artifactLocation"] for fix in result.get("fixes", ()) for c in fix["artifactChanges"]]
        for artifact in locations + changes:
            # relative to SRCROOT, never absolute: the log must hold wherever the code is checked out
            assert artifact["uriBaseId"] in base_ids, artifact
            assert not artifact["uri"].startswith(("/", "file:")) and ":" not in artifact["uri"], artifact
    for base in base_ids.values():
        assert "uri" not in base or not base["uri"].startswith("file:"), base
    results: list[dict[str, Any]] = run["results"]
    return results


def in_sample(key: str, every: int, part: int = 0) -> bool:
    """A stable sample: the keys whose sha256 is ``part`` modulo ``every`` (all of them for 1); the
    ``every`` parts together hold every key once."""
    return every <= 1 or int(hashlib.sha256(key.encode()).hexdigest(), 16) % every == part


def _offset(text: str, starts: Sequence[int], line: int, column: int) -> int:
    """The offset of a 1-based (line, column) in ``text``; line len+1, column 1 is the end of the text."""
    if line == len(starts) + 1 and column == 1 and (not text or text.endswith(("\n", "\r"))):
        return len(text)
    assert 1 <= line <= len(starts), (line, len(starts))
    offset = starts[line - 1] + column - 1
    line_end = starts[line] if line < len(starts) else len(text)
    assert offset <= line_end, (line, column)
    return offset


def apply_replacements(text: str, replacements: Sequence[Mapping[str, Any]]) -> str:
    """Apply SARIF replacements, each region given in the original text, in code points."""
    starts = [0] + [m.end() for m in _LINE_START.finditer(text)]
    if starts and starts[-1] == len(text) and text:
        starts.pop()  # a final line break starts no line
    spans = []
    for replacement in replacements:
        region = replacement["deletedRegion"]
        start = _offset(text, starts, region["startLine"], region.get("startColumn", 1))
        end = _offset(text, starts, region.get("endLine", region["startLine"]), region["endColumn"])
        assert start <= end
        spans.append((start, end, replacement.get("insertedContent", {}).get("text", "")))
    spans.sort()
    for (_, end, _), (start, _, _) in zip(spans, spans[1:], strict=False):
        assert end <= start, "overlapping replacements"
    for start, end, inserted in reversed(spans):
        text = text[:start] + inserted + text[end:]
    return text


def apply_fix(root: Path, fix: Mapping[str, Any]) -> list[str]:
    """Apply every artifact change of one SARIF fix to the tree at ``root``; return the changed paths."""
    changed = []
    for change in fix["artifactChanges"]:
        location = change["artifactLocation"]
        assert location["uriBaseId"] == "SRCROOT"
        path = root / location["uri"]
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        with path.open("w", encoding="utf-8", newline="") as handle:
            handle.write(apply_replacements(text, change["replacements"]))
        changed.append(location["uri"])
    return changed


def compiles_and_passes_pyflakes(root: Path, paths: Sequence[str]) -> str | None:
    """``None`` when ``compileall`` succeeds and ``ruff check --select F`` is clean on the changed
    ``paths`` (the rest of the tree is as it was); otherwise what failed."""
    compiled = subprocess.run(
        [sys.executable, "-m", "compileall", "-q", *paths], cwd=root, capture_output=True, text=True, check=False
    )
    if compiled.returncode:
        return f"compileall: {compiled.stdout}{compiled.stderr}"
    ruff = Path(sys.executable).with_name("ruff")
    checked = subprocess.run(
        [str(ruff if ruff.exists() else "ruff"), "check", "--isolated", "--select", "F", "--quiet", *paths],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if checked.returncode:
        return f"ruff check --select F: {checked.stdout}{checked.stderr}"
    return None
