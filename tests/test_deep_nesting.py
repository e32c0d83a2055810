"""Code nested too deeply for CPython's parser is reported, never handed to LibCST's native parser,
which overflows its stack on it and kills the process (SIGSEGV: no exception, no message).

Each command runs in its own process, so a regression shows as a crash of that process, not of the suite.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from asyncmigrate.analysis.parsing import nested_too_deeply, parse_python_or_error

ASSETS = Path(__file__).parent / "assets"
# Three shapes past CPython's limits: brackets (a syntax error), an operator chain (RecursionError while
# building the tree) and a chain of unary operators (MemoryError or RecursionError).
DEEP = {
    "brackets": "DEEP = " + "[" * 5000 + "]" * 5000 + "\n",
    "chain": "DEEP = " + "+".join(["1"] * 20000) + "\n",
    "unary": "DEEP = " + "-" * 50000 + "1\n",
}


@pytest.mark.parametrize("shape", sorted(DEEP))
def test_ast_gives_up_on_each_shape_as_nested_too_deeply(shape: str) -> None:
    error = parse_python_or_error(DEEP[shape].encode())
    assert isinstance(error, Exception) and nested_too_deeply(error)


def test_other_syntax_errors_are_not_nesting() -> None:
    error = parse_python_or_error(b"def f(:\n")
    assert isinstance(error, SyntaxError) and not nested_too_deeply(error)


def _run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "asyncmigrate", *args], cwd=root, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(params=sorted(DEEP))
def deep_library(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    root = tmp_path / "library"
    shutil.copytree(ASSETS / "library", root, ignore=shutil.ignore_patterns("__pycache__", ".asyncmigrate"))
    target = root / "library" / "catalog.py"
    target.write_text(target.read_text() + "\n" + DEEP[request.param])
    return root


def test_scan_reports_the_file_and_goes_on(deep_library: Path) -> None:
    done = _run(deep_library, "scan", "--format", "json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    [error] = [e for e in report["errors"] if e["path"] == "library/catalog.py"]
    assert "nest" in error["error"] or "too many nested parentheses" in error["error"]
    assert any(f["calls"] for f in report["files"])  # the other files are scanned as before


def test_apply_refuses_the_file_with_its_line_and_writes_nothing(deep_library: Path) -> None:
    before = (deep_library / "library" / "catalog.py").read_bytes()
    done = _run(deep_library, "apply", "library/catalog.py", "--no-test")
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    assert "library/catalog.py:" in done.stderr and "does not parse" in done.stderr
    assert (deep_library / "library" / "catalog.py").read_bytes() == before


def test_check_runs_to_the_end(deep_library: Path) -> None:
    done = _run(deep_library, "check", "--format", "json")
    assert done.returncode in (0, 1), (done.returncode, done.stderr[-2000:])
    json.loads(done.stdout)
