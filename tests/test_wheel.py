"""The wheel holds one package, ``asyncmigrate``, and works installed on its own.

Builds the wheel from this checkout (``pip wheel --no-deps``, pip's cache for the build requirements),
checks every file in it, installs it into a fresh virtual environment and runs the installed
``asyncmigrate`` on a copy of a fixture outside the repository. Slow (a build and an install): marked
``packaging`` and run by ``.ci/run`` as its own step.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.packaging

REPO = Path(__file__).resolve().parents[1]


def _run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Built from a copy: a build writes build/ and *.egg-info next to the sources it reads.
    source = tmp_path_factory.mktemp("source")
    tracked = _run("git", "-C", REPO, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    assert tracked.returncode == 0, tracked.stderr
    for name in filter(None, tracked.stdout.split("\0")):
        origin = REPO / name
        if origin.is_symlink():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            (source / name).symlink_to(os.readlink(origin))
        elif origin.is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, source / name)
    out = tmp_path_factory.mktemp("dist")
    built = _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", out, source)
    assert built.returncode == 0, built.stdout + built.stderr
    [wheel] = out.glob("asyncmigrate-*.whl")
    return wheel


def test_the_wheel_holds_only_the_asyncmigrate_package(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    dist_info = [n for n in names if n.split("/")[0].endswith(".dist-info")]
    outside = [n for n in names if n not in dist_info and not n.startswith("asyncmigrate/")]
    assert outside == []
    codemods = sorted(p.name for p in (REPO / "codemods").glob("*.py"))
    assert sorted(n.rsplit("/", 1)[1] for n in names if n.startswith("asyncmigrate/codemods/")) == codemods
    assert not any(n.startswith(("codemods/", "server/", "tests/")) for n in names)
    assert "asyncmigrate/py.typed" in names and "asyncmigrate/schemas/report.schema.json" in names
    top_level = [n for n in dist_info if n.endswith("top_level.txt")]
    for name in top_level:
        assert zipfile.ZipFile(wheel).read(name).decode().split() == ["asyncmigrate"]


def test_the_installed_wheel_scans_a_fixture(wheel: Path, tmp_path: Path) -> None:
    environment = tmp_path / "venv"
    venv.create(environment, with_pip=True)
    python = environment / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    installed = _run(python, "-m", "pip", "install", "-q", wheel)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    command = environment / ("Scripts/asyncmigrate.exe" if os.name == "nt" else "bin/asyncmigrate")
    project = tmp_path / "elsewhere" / "shop"
    shutil.copytree(REPO / "tests/assets/shop", project)

    helped = _run(command, "--help", cwd=project)
    assert helped.returncode == 0, helped.stderr
    assert "scan" in helped.stdout
    scanned = _run(command, "scan", "--format", "json", cwd=project)
    assert scanned.returncode == 0, scanned.stderr
    document = json.loads(scanned.stdout)
    where = {(f["path"], c["line"]) for f in document["files"] for c in f["calls"]}
    # The installed copy, not this checkout, did the work.
    located = _run(python, "-c", "import asyncmigrate, sys; sys.stdout.write(asyncmigrate.__file__)", cwd=project)
    assert Path(located.stdout).is_relative_to(environment)
    assert where == {
        ("shop/handlers.py", 8),
        ("shop/handlers.py", 17),
        ("shop/service.py", 9),
        ("shop/service.py", 13),
        ("shop/service.py", 18),
        ("tests/test_service.py", 7),
        ("tests/test_service.py", 9),
    }
    assert document["summary"]["call_sites"] == 7
