"""One vocabulary of output formats for every command that has them.

Each command writes a subset of ``OutputFormat``; ``--format`` is checked against that subset, so a
format name means the same thing wherever it is accepted and a name a command does not write is one
clear line, not a silent fallback. Like ``types.py``, this module imports nothing of the package.
"""

from __future__ import annotations

from enum import StrEnum


class OutputFormat(StrEnum):
    TABLE = "table"  # the human default: Rich tables, trees, or one finding per line
    JSON = "json"  # a document following asyncmigrate/schemas/<command>.schema.json
    MARKDOWN = "markdown"  # made for $GITHUB_STEP_SUMMARY
    JUNIT = "junit"  # JUnit XML, one test case per planned file
    SARIF = "sarif"  # SARIF 2.1.0 for code scanning
    GITHUB = "github"  # GitHub Actions workflow commands (::error file=...::message)


# The formats each command writes; the first is its default.
COMMAND_FORMATS: dict[str, tuple[OutputFormat, ...]] = {
    "scan": (OutputFormat.TABLE, OutputFormat.JSON),
    "status": (OutputFormat.TABLE, OutputFormat.JSON),
    "apply": (OutputFormat.TABLE, OutputFormat.JSON),
    "graph": (OutputFormat.TABLE, OutputFormat.JSON),
    "trace": (OutputFormat.TABLE, OutputFormat.JSON),
    "report": (OutputFormat.MARKDOWN, OutputFormat.JSON, OutputFormat.JUNIT, OutputFormat.SARIF),
    "check": (OutputFormat.TABLE, OutputFormat.JSON, OutputFormat.GITHUB),
}

# Names the README documented before the vocabulary was one, kept working per command: (command, old) -> new.
DEPRECATED_ALIASES: dict[tuple[str, str], OutputFormat] = {
    ("check", "text"): OutputFormat.TABLE,
}


class UnsupportedFormat(ValueError):
    """A --format value the command does not write; the message is the one line to show."""


def resolve_format(command: str, given: str) -> tuple[OutputFormat, str | None]:
    """The format ``given`` names for ``command``, and a deprecation note when it is an old alias.

    Raises UnsupportedFormat naming what the command writes (and, for a format of the vocabulary that
    this command does not write, which commands do)."""
    supported = COMMAND_FORMATS[command]
    name = given.strip().lower()
    alias = DEPRECATED_ALIASES.get((command, name))
    if alias is not None:
        return alias, f"--format {name} is deprecated; use --format {alias.value}"
    choices = ", ".join(f.value for f in supported)
    try:
        chosen = OutputFormat(name)
    except ValueError:
        raise UnsupportedFormat(f"{given!r} is not a format ({command} writes: {choices})") from None
    if chosen not in supported:
        writers = ", ".join(c for c, formats in COMMAND_FORMATS.items() if chosen in formats)
        raise UnsupportedFormat(
            f"{command} does not write {chosen.value} ({command} writes: {choices}; "
            f"{chosen.value} is written by: {writers})"
        )
    return chosen, None
