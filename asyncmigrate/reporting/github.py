"""``check --format github``: each finding as a GitHub Actions workflow command, so it shows as an
annotation on the pull request's diff (``::error file=F,line=L,col=C,title=T::message``).

Escaping follows the Actions runner (actions/toolkit, ``core/src/command.ts``): in the message ``%``,
CR and LF are percent-encoded; in a property value ``:`` and ``,`` are too, since they delimit the
properties. Nothing here prints; ``render.py`` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from asyncmigrate.checks.check import NON_FAILING, CheckResult, Finding


def escape_data(text: str) -> str:
    """A workflow command's message: ``%`` first, so the escapes added after it stay as written."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A property value (file, title): the message's escapes, plus the two property delimiters."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workspace_prefix(plan_root: Path, environ: Mapping[str, str]) -> str:
    """The plan root's path inside the checked-out repository, which annotations are relative to.

    Findings name files relative to the plan's directory; when the plan sits in a subdirectory of
    ``$GITHUB_WORKSPACE`` the annotations would otherwise point at files that do not exist there."""
    workspace = environ.get("GITHUB_WORKSPACE")
    if not workspace:
        return ""
    try:
        relative = plan_root.resolve().relative_to(Path(workspace).resolve())
    except (ValueError, OSError):
        return ""
    return "" if relative == Path(".") else relative.as_posix()


def workflow_command(finding: Finding, prefix: str = "") -> str:
    """One finding: ``error`` when it fails the gate, ``warning`` when the plan accepts it (listed only)."""
    level = "warning" if finding.kind in NON_FAILING else "error"
    path = str(PurePosixPath(prefix) / finding.path) if prefix else finding.path
    properties = ",".join(
        (
            f"file={escape_property(path)}",
            f"line={finding.line}",
            f"col={finding.column + 1}",  # GitHub's columns are 1-based, the finding's 0-based
            f"title={escape_property(finding.kind)}",
        )
    )
    message = finding.message if not finding.fix else f"{finding.message}\nfix: {finding.fix}"
    return f"::{level} {properties}::{escape_data(message)}"


def workflow_commands(result: CheckResult, prefix: str = "") -> list[str]:
    """Every finding of a check run, in its order (by file, line and kind)."""
    return [workflow_command(finding, prefix) for finding in result.findings]
