"""The analysis cache: derived format versions, its directory tag, bad entries as misses, bad disks as no error."""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

import asyncmigrate.workspace.files
from asyncmigrate.analysis.callgraph import build_project
from asyncmigrate.analysis.facade import FacadeSpec
from asyncmigrate.analysis.scan import scan
from asyncmigrate.config.plan import load_plan
from asyncmigrate.types import Resolution
from asyncmigrate.workspace import cache
from asyncmigrate.workspace.cache import CacheFile, PackFile, content_key, format_version


@dataclass(frozen=True)
class _Inner:
    value: int


@dataclass(frozen=True)
class _Outer:
    inner: tuple[_Inner, ...]
    resolution: Resolution | None


def test_format_version_follows_the_cached_types(monkeypatch: pytest.MonkeyPatch) -> None:
    before = format_version(_Outer)
    assert before == format_version(_Outer)  # stable within a version of the types

    @dataclass(frozen=True)
    class _Inner:  # noqa: F811  (the same class, one field renamed)
        amount: int

    monkeypatch.setitem(_Outer.__annotations__, "inner", "tuple[_Inner, ...]")
    monkeypatch.setitem(globals(), "_Inner", _Inner)
    assert format_version(_Outer) != before  # a nested type changed: a new version without a bump


def test_format_version_follows_enum_members() -> None:
    import enum

    class One(enum.Enum):
        A = "a"

    class Two(enum.Enum):
        A = "b"

    Two.__qualname__ = One.__qualname__
    assert format_version(One) != format_version(Two)


def test_content_key_separates_its_parts() -> None:
    assert content_key(b"ab", b"c") != content_key(b"a", b"bc")
    assert content_key("x") == content_key(b"x")


def test_store_writes_the_tag_and_reads_back(tmp_path: Path) -> None:
    entry = CacheFile(tmp_path, "thing", "v1")
    assert entry.load() is None
    assert entry.store({"a": 1})
    assert entry.load() == {"a": 1}
    tag = (tmp_path / ".asyncmigrate" / "cache" / "CACHEDIR.TAG").read_bytes()
    assert tag.startswith(b"Signature: 8a477f597d28d172789f06886806bc55")
    assert (tmp_path / ".asyncmigrate" / ".gitignore").read_text() == "*\n"
    assert CacheFile(tmp_path, "thing", "v2").load() is None  # another format version: another entry


@pytest.mark.parametrize("garbage", [b"", b"not a pickle", b"\x80\x05\x95\xff\xff\xff", b"\x80\x05K"])
def test_corrupted_entries_are_misses(tmp_path: Path, garbage: bytes) -> None:
    entry = CacheFile(tmp_path, "thing", "v1")
    entry.store([1, 2, 3])
    entry.path.write_bytes(garbage)
    assert entry.load() is None


def test_a_pack_reads_back_each_blob_on_its_own(tmp_path: Path) -> None:
    pack = PackFile(tmp_path, "things", "v1")
    assert pack.get(("a", b"1")) is None and pack.keys() == set()
    blobs = {("a", b"1"): b"first" * 100, ("b", b"2"): b"", ("c", b"3"): b"third"}
    assert pack.store(blobs)
    again = PackFile(tmp_path, "things", "v1")
    assert again.keys() == set(blobs)
    assert {key: again.get(key) for key in blobs} == blobs
    assert again.get(("a", b"2")) is None
    assert PackFile(tmp_path, "things", "v2").get(("a", b"1")) is None  # another format version
    # what a reader mapped stays what it reads while a writer replaces the file
    assert PackFile(tmp_path, "things", "v1").store({("a", b"1"): b"replaced"})
    assert again.get(("c", b"3")) == b"third"
    assert PackFile(tmp_path, "things", "v1").get(("c", b"3")) is None


@pytest.mark.parametrize("damage", ["empty", "garbage", "truncated", "a blob's byte"])
def test_a_damaged_pack_gives_misses_never_other_bytes(tmp_path: Path, damage: str) -> None:
    blobs = {("a", b"1"): b"A" * 50, ("b", b"2"): b"B" * 50}
    PackFile(tmp_path, "things", "v1").store(blobs)
    path = PackFile(tmp_path, "things", "v1").path
    data = path.read_bytes()
    damaged = {
        "empty": b"",
        "garbage": b"not a pack at all",
        "truncated": data[:-20],
        "a blob's byte": data[:-10] + b"C" + data[-9:],
    }[damage]
    path.write_bytes(damaged)
    pack = PackFile(tmp_path, "things", "v1")
    read = {key: pack.get(key) for key in blobs}
    assert all(read[key] in (None, blobs[key]) for key in blobs)
    assert read[("b", b"2")] is None  # the last blob is the one damaged in each case


def test_a_failed_write_is_not_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(asyncmigrate.workspace.files, "write_atomic", full)
    entry = CacheFile(tmp_path, "thing", "v1")
    assert entry.store({"a": 1}) is False
    assert entry.load() is None
    pack = PackFile(tmp_path, "thing", "v1")
    assert pack.store({"a": b"1"}) is False
    assert pack.get("a") is None


def test_a_read_only_tree_is_not_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "a.py").write_text("def a():\n    return 1\n")

    def read_only(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(Path, "mkdir", read_only)
    assert set(build_project(tmp_path, ["app/a.py"]).functions) == {"app.a.a"}
    assert not (tmp_path / ".asyncmigrate").exists()


def test_every_analysis_cache_lives_in_the_tagged_directory(shop: Path) -> None:
    plan = load_plan(shop / "migration_plan.yaml")
    spec = FacadeSpec.from_plan(plan)
    first = scan(shop, spec, plan=plan)
    build_project(shop, ["shop/service.py"])
    load_plan(shop / "migration_plan.yaml")  # kept now that the scan has made the directory
    names = sorted(p.name for p in cache.cache_dir(shop).iterdir())
    assert names[0] == "CACHEDIR.TAG"
    prefixes = {name.split("-")[0] for name in names[1:]}
    assert prefixes == {"plan", "scan", "summaries", "graph"}
    for name in names[1:]:
        (cache.cache_dir(shop) / name).write_bytes(b"corrupt")
    again = scan(shop, spec, plan=plan)
    assert again.calls == first.calls
    assert again.stats.cache_hits == 0


def test_call_graph_knows_settled_files_by_their_stat(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "app").mkdir()
    for name, body in (("a", "def a():\n    return 1\n"), ("b", "def b():\n    return 2\n")):
        file = tmp_path / "app" / f"{name}.py"
        file.write_text(body)
        os.utime(file, ns=(1_000_000_000, 1_000_000_000))  # long settled (ctime is now: see below)
    paths = ["app/a.py", "app/b.py"]
    build_project(tmp_path, paths)
    reads: list[str] = []
    real = Path.read_bytes

    def counting(self: Path) -> bytes:
        reads.append(self.name)
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", counting)
    # ctime was "now" when first read, so the files were not yet settled: read once more, then known
    monkeypatch.setattr(cache, "SETTLED_NS", -(10**18))
    build_project(tmp_path, paths)
    reads.clear()
    assert set(build_project(tmp_path, paths).functions) == {"app.a.a", "app.b.b"}
    assert reads == []
    (tmp_path / "app" / "b.py").write_text("def b2():\n    return 2\n")
    assert set(build_project(tmp_path, paths).functions) == {"app.a.a", "app.b.b2"}
    assert reads == ["b.py"]
