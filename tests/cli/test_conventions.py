"""The conventions every command shares: --version, shell completion, one --format vocabulary, and
`check --format github` (GitHub Actions workflow commands)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from typer.testing import CliRunner

import asyncmigrate
from asyncmigrate.checks.check import ACCEPTED_DOUBT, CheckResult, Finding
from asyncmigrate.cli import app
from asyncmigrate.formats import COMMAND_FORMATS, OutputFormat, UnsupportedFormat, resolve_format
from asyncmigrate.reporting.github import (
    escape_data,
    escape_property,
    workflow_command,
    workflow_commands,
    workspace_prefix,
)

runner = CliRunner()
HANG_GUARD = 120


def _cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "asyncmigrate", *args],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )


# --- --version --------------------------------------------------------------------------------------


def test_version_is_one_line_from_the_package_metadata() -> None:
    result = _cli("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"asyncmigrate {version('asyncmigrate')}\n"
    assert result.stderr == ""


def test_version_falls_back_to_the_source_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.metadata

    def not_installed(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", not_installed)
    assert asyncmigrate.installed_version() == asyncmigrate.__version__


# --- shell completion --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shell", "marker"),
    [
        ("bash", "complete -o default -F _asyncmigrate_completion asyncmigrate"),
        ("zsh", "#compdef asyncmigrate"),
        ("fish", "complete --command asyncmigrate"),
    ],
)
def test_show_completion_prints_the_named_shells_script(shell: str, marker: str) -> None:
    result = _cli("--show-completion", shell)
    assert result.returncode == 0, result.stderr
    assert marker in result.stdout
    assert "_ASYNCMIGRATE_COMPLETE" in result.stdout


def test_an_unknown_shell_is_one_line_and_exit_2() -> None:
    result = _cli("--show-completion", "tcsh")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "'tcsh' is not a supported shell" in result.stderr


@pytest.mark.parametrize(("detected", "says"), [("sh", "(found 'sh')"), (None, "cannot tell which shell this is;")])
def test_a_bare_show_completion_in_a_shell_typer_cannot_serve_is_one_line_and_exit_2(
    detected: str | None, says: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import typer._completion_shared

    monkeypatch.setattr(typer._completion_shared, "_get_shell_name", lambda: detected)
    result = runner.invoke(app, ["--show-completion"])
    assert result.exit_code == 2
    assert says in result.stderr and "name it: one of bash" in result.stderr


def test_a_bare_show_completion_uses_the_detected_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    import typer._completion_shared

    monkeypatch.setattr(typer._completion_shared, "_get_shell_name", lambda: "zsh")
    result = runner.invoke(app, ["--show-completion"])
    assert result.exit_code == 0
    assert result.stdout.startswith("#compdef asyncmigrate")


def test_the_completion_script_completes_commands_and_each_commands_formats() -> None:
    def complete(words: str, cword: int) -> list[str]:
        result = _cli(env={"_ASYNCMIGRATE_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(cword)})
        assert result.returncode == 0, result.stderr
        return result.stdout.split()

    assert complete("asyncmigrate ch", 1) == ["check"]
    assert complete("asyncmigrate check --format ", 3) == ["table", "json", "github"]
    assert complete("asyncmigrate report --format j", 3) == ["json", "junit"]


# --- one --format vocabulary ---------------------------------------------------------------------------


def test_every_command_with_formats_takes_them_from_the_one_vocabulary() -> None:
    """Each command's --format offers exactly its subset of the vocabulary, and no command has its own."""
    from asyncmigrate.cli import format_option

    names = [
        command.name or (command.callback.__name__ if command.callback else "") for command in app.registered_commands
    ]
    with_format = {
        name for name in names if "--format" in runner.invoke(app, [name, "--help"], terminal_width=200).stdout
    }
    assert with_format == set(COMMAND_FORMATS)
    for command, formats in COMMAND_FORMATS.items():
        option = format_option(command)
        assert option.metavar == "|".join(f.value for f in formats)
        assert all(isinstance(f, OutputFormat) for f in formats)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (
            ("status", "--format", "markdown"),
            "status does not write markdown (status writes: table, json; markdown is written by: report)",
        ),
        (("check", "--format", "sarif"), "check does not write sarif"),
        (("report", "--format", "table"), "report does not write table"),
        (("scan", "--format", "github"), "github is written by: check"),
        (("graph", "x", "--format", "xml"), "'xml' is not a format (graph writes: table, json)"),
        (("scan", "--format", "text"), "'text' is not a format"),  # the old alias is check's alone
    ],
)
def test_a_format_the_command_does_not_write_is_one_line_and_exit_2(args: tuple[str, ...], says: str) -> None:
    result = _cli(*args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert says in result.stderr
    assert result.stderr.startswith(f"asyncmigrate {args[0]}: error: Invalid value for '--format'")


def test_check_format_text_still_works_with_a_deprecation_note(shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(shop)
    old = runner.invoke(app, ["check", "--format", "text", "--no-cache"])
    new = runner.invoke(app, ["check", "--format", "table", "--no-cache"])
    assert old.exit_code == new.exit_code == 0
    assert old.stdout == new.stdout
    assert "--format text is deprecated; use --format table" in old.stderr
    assert "deprecated" not in new.stderr


def test_resolve_format_is_case_insensitive_and_knows_the_old_alias_only_where_it_was_documented() -> None:
    assert resolve_format("report", "SARIF") == (OutputFormat.SARIF, None)
    assert resolve_format("check", "text") == (OutputFormat.TABLE, "--format text is deprecated; use --format table")
    with pytest.raises(UnsupportedFormat, match="status does not write text|'text' is not a format"):
        resolve_format("status", "text")


# --- check --format github -------------------------------------------------------------------------------


def test_escaping_follows_the_actions_runner() -> None:
    assert escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_data("%0A stays literal") == "%250A stays literal"  # % first: no double decoding
    assert escape_data("a: b, c") == "a: b, c"  # the message may hold the property delimiters
    assert escape_property("dir,1/a:b.py") == "dir%2C1/a%3Ab.py"
    assert escape_property("50%\n") == "50%25%0A"


def test_a_finding_becomes_one_workflow_command() -> None:
    finding = Finding("pkg/a,b.py", 12, 4, "unplanned-facade-call", "db.get: 100% sync\nsecond line", "use x, y")
    command = workflow_command(finding)
    assert command == (
        "::error file=pkg/a%2Cb.py,line=12,col=5,title=unplanned-facade-call::"
        "db.get: 100%25 sync%0Asecond line%0Afix: use x, y"
    )
    assert "\n" not in command
    accepted = Finding("a.py", 3, 0, ACCEPTED_DOUBT, "accepted", None)
    assert (
        workflow_command(accepted, "sub/dir")
        == "::warning file=sub/dir/a.py,line=3,col=1,title=accepted-doubt::accepted"
    )
    result = CheckResult(Path("plan.yaml"), (finding, accepted))
    assert workflow_commands(result) == [workflow_command(finding), workflow_command(accepted)]


def test_workspace_prefix_places_a_plan_in_a_subdirectory(tmp_path: Path) -> None:
    (tmp_path / "services" / "game").mkdir(parents=True)
    assert workspace_prefix(tmp_path / "services" / "game", {"GITHUB_WORKSPACE": str(tmp_path)}) == "services/game"
    assert workspace_prefix(tmp_path, {"GITHUB_WORKSPACE": str(tmp_path)}) == ""
    assert workspace_prefix(tmp_path, {}) == ""
    assert workspace_prefix(tmp_path, {"GITHUB_WORKSPACE": str(tmp_path / "elsewhere")}) == ""


COMMAND = re.compile(r"^::(error|warning) file=([^,]+),line=(\d+),col=(\d+),title=([^,:]+)::(.*)$")


def test_check_format_github_on_a_real_run(shop: Path) -> None:
    plan = shop / "migration_plan.yaml"
    plan.write_text(plan.read_text().replace("status: pending", "status: migrated", 1))  # handlers.py regressed
    (shop / "shop" / "service.py").unlink()
    table = _cli("check", "--no-cache", cwd=shop)
    github = _cli("check", "--format", "github", "--no-cache", cwd=shop, env={"GITHUB_WORKSPACE": str(shop.parent)})
    assert github.returncode == table.returncode == 1, github.stderr
    lines = github.stdout.splitlines()
    parsed = [COMMAND.match(line) for line in lines]
    assert all(parsed), lines
    assert [(m[1], m[2], m[3], m[5]) for m in parsed if m] == [
        ("error", "shop/migration_plan.yaml", "28", "planned-file-missing"),
        ("error", "shop/shop/handlers.py", "8", "migrated-file-calls-facade"),
    ]
    assert "%0Afix: use await user_repo.find(...)" in lines[1]
    assert "check failed: 2 findings" in github.stderr


def test_check_format_github_passes_with_no_output(shop: Path) -> None:
    result = _cli("check", "--format", "github", "--no-cache", cwd=shop)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "check passed" in result.stderr
