"""Where the migration stands, for CI: ``build_report`` (``model.py``) makes one ``Report`` from the
plan, its history and a scan; one module per format turns it into text. Nothing here prints
(``render.py`` does).

Formats:
- markdown (``markdown.py``): for ``$GITHUB_STEP_SUMMARY``.
- json (``json_report.py``): ``schemas/report.schema.json``.
- junit (``junit.py``): one test case per planned file.
- sarif (``sarif.py``): SARIF 2.1.0, each call site, blocker and accepted doubt; with ``fixes``, each
  planned file's whole change as the fix of its first result.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from asyncmigrate.errors import AsyncMigrateError
from asyncmigrate.reporting.json_report import to_json_text
from asyncmigrate.reporting.junit import to_junit
from asyncmigrate.reporting.markdown import to_markdown
from asyncmigrate.reporting.model import Report, build_report
from asyncmigrate.reporting.sarif import FileFix, to_sarif_text
from asyncmigrate.workspace import files as workspace_files

__all__ = ["FORMATS", "Report", "build_report", "render_report", "write_report"]

FORMATS: dict[str, Callable[[Report], str]] = {
    "markdown": to_markdown,
    "json": to_json_text,
    "junit": to_junit,
    "sarif": to_sarif_text,
}


def render_report(report: Report, fmt: str, *, fixes: Mapping[str, FileFix] | None = None) -> str:
    """The report as the text of one format (``FORMATS``); ``fixes`` are SARIF's only."""
    try:
        builder = FORMATS[fmt]
    except KeyError:
        raise AsyncMigrateError(f"unknown report format {fmt!r} (formats: {', '.join(FORMATS)})") from None
    if fixes is not None:
        if fmt != "sarif":
            raise AsyncMigrateError(f"fixes are a SARIF feature; --format {fmt} has no place for them")
        return to_sarif_text(report, fixes)
    return builder(report)


def write_report(path: Path, text: str) -> None:
    """Write atomically, so a CI step never reads half a report."""
    if path.is_dir():
        raise AsyncMigrateError(f"{path}: is a directory; give the report a file name")
    try:
        workspace_files.write_text_atomic(path, text)
    except OSError as exc:
        raise AsyncMigrateError(f"{path}: cannot write the report ({exc.strerror})") from None
