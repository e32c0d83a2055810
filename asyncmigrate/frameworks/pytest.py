"""pytest and pytest-asyncio: fixtures, marks, and whether ``async def`` tests need a marker.

pytest calls tests and fixtures itself, so a test or a fixture turning async has no caller to edit:
pytest-asyncio runs it, in ``auto`` mode without more, in ``strict`` mode only with
``@pytest.mark.asyncio`` (a test) or ``@pytest_asyncio.fixture`` (a fixture). The mode is read from the
project's pytest configuration: ``pyproject.toml`` (``[tool.pytest.ini_options]``), ``pytest.ini``,
``tox.ini`` (``[pytest]``) or ``setup.cfg`` (``[tool:pytest]``), the first that sets it.
"""

from __future__ import annotations

from pathlib import Path

NAME = "pytest"

FIXTURE_DECORATORS = frozenset({"pytest.fixture", "pytest_asyncio.fixture"})
# Marks only label a test: they work unchanged on a coroutine function.
MARK_PREFIX = "pytest.mark."
MARK_MODULE = "pytest"
ASYNCIO_MARK = "pytest.mark.asyncio"
ASYNCIO_MODE = "asyncio_mode"
# The command names a test command runs pytest by (``pytest``, ``py.test``, ``python -m pytest``).
RUNNER_NAMES = frozenset({"pytest", "py.test"})
# A verification run's options: a coroutine never awaited (a ``RuntimeWarning``) and an exception raised
# where nobody can catch it fail the run (the categories as pytest 8 and 9 name them).
STRICT_WARNINGS = ("-W", "error::RuntimeWarning", "-W", "error::pytest.PytestUnraisableExceptionWarning")

STRICT_FIXTURE_FIX = f"set `{ASYNCIO_MODE} = auto` in the pytest configuration, or use @pytest_asyncio.fixture"

_INI_FILES = (("pytest.ini", "pytest"), ("tox.ini", "pytest"), ("setup.cfg", "tool:pytest"))


def strict_fixture_message(qualname: str) -> str:
    return f"fixture {qualname} would turn async, and pytest-asyncio runs in strict mode"


def asyncio_auto_mode(root: Path) -> bool:
    """Does the project's pytest configuration run ``async def`` tests without a marker?"""
    import configparser  # here: every command loads this adapter; only apply and graph read the configuration
    import tomllib

    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
            data = {}
        options = data.get("tool", {}).get("pytest", {}).get("ini_options", {})
        if ASYNCIO_MODE in options:
            return str(options[ASYNCIO_MODE]) == "auto"
    for name, section in _INI_FILES:
        path = root / name
        if not path.is_file():
            continue
        parser = configparser.ConfigParser()
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError):
            continue
        if parser.has_option(section, ASYNCIO_MODE):
            return parser.get(section, ASYNCIO_MODE).strip() == "auto"
    return False
