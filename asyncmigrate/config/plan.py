"""migration_plan.yaml <-> dataclasses: validated at load, round-tripped (comments, key order) on save.

The plan is edited by people, so every mistake is reported as ``file:line: key: problem`` and saving
goes through ruamel.yaml's round-trip mode, writing a temporary file and renaming it over the plan so a
crash never leaves half a plan behind.
"""

from __future__ import annotations

import copy
import dataclasses
import enum
import functools
import hashlib
import io
import json
import os
import posixpath
import re
import stat
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import TYPE_CHECKING, Any

from asyncmigrate.config import PLAN_FILENAME as PLAN_FILENAME
from asyncmigrate.config import plan_schema
from asyncmigrate.errors import PlanError
from asyncmigrate.types import FileStatus
from asyncmigrate.workspace import files as workspace_files
from asyncmigrate.workspace.cache import KeyedResults, cache_dir, content_key, file_digest, format_version

if TYPE_CHECKING:
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.composer import Composer

PLAN_VERSION = 1
# A plan of a few hundred files with thousands of history events is well under 1 MB. Round-trip YAML
# is slow and large: a 7.9 MB plan took 20 s and 0.9 GB to load, so a bigger file is refused up front.
MAX_PLAN_BYTES = 4 * 1024 * 1024
LEVELS = ("low", "medium", "high")
DEFAULT_TEST_TIMEOUT = 1800.0  # seconds an apply waits for its tests before stopping them
FROM_RECEIVED_ITSELF = "itself"
FROM_RECEIVED_ATTRIBUTE = "attribute:"
FROM_RECEIVED_DEPENDS = "depends"
# The framework adapters a plan may switch (asyncmigrate.frameworks holds what each knows); absent: all.
FRAMEWORK_NAMES = ("fastapi", "pytest", "unittest", "unittest_mock")


@dataclass(frozen=True)
class Facade:
    factories: tuple[str, ...]
    classes: tuple[str, ...]
    receiver_names: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()  # optional: the facade's methods when its class is not in the tree


@dataclass(frozen=True)
class Repository:
    name: str
    class_name: str
    provider: str | None  # how code that *obtains* the facade gets this repository; None: never obtained
    attribute: str
    awaitable: bool
    # how this repository is reached from a facade the code *receives*: "itself", "attribute:<path>",
    # "depends" or None (a call on a received facade needing it is then a blocker)
    from_received: str | None = None

    @property
    def received_path(self) -> tuple[str, ...] | None:
        """The attribute path of ``from_received: attribute:<path>``; () for ``itself``; None otherwise."""
        if self.from_received == FROM_RECEIVED_ITSELF:
            return ()
        if self.from_received is not None and self.from_received.startswith(FROM_RECEIVED_ATTRIBUTE):
            return tuple(self.from_received[len(FROM_RECEIVED_ATTRIBUTE) :].split("."))
        return None


@dataclass(frozen=True)
class Pack:
    """Facade arguments gathered into one parameter object: ``Params(owner=o, size=2)``."""

    class_name: str  # qualified name of the parameter class, imported where the call is rewritten
    fields: tuple[tuple[str, str], ...]  # facade parameter -> the class's keyword
    keyword: str | None = None  # pass the object as this keyword; None: positionally, after the others


@dataclass(frozen=True)
class Mapping:
    facade_method: str
    repository: str
    method: str
    args: tuple[tuple[str, str], ...] = ()  # keyword renames, facade name -> repository name
    # The target's leading positional arguments, by facade parameter name (None: as the call has them).
    positional: tuple[str, ...] | None = None
    constants: tuple[tuple[str, str], ...] = ()  # keyword -> Python literal (source text) always passed
    pack: Pack | None = None
    adapter: str | None = None  # qualified name of a function called as adapter(repository, *args, **kwargs)
    awaitable: bool | None = None  # per method; None: the repository's ``awaitable``

    @property
    def target(self) -> str:
        return f"{self.repository}.{self.method}"

    @property
    def reshapes(self) -> bool:
        """Arguments are bound to the facade method's parameters and laid out anew (not only renamed)."""
        return self.positional is not None or bool(self.constants) or self.pack is not None


@dataclass(frozen=True)
class AcceptedDoubt:
    """A call the call graph cannot follow, accepted by a person as not reaching a function turning async.

    ``at`` names one call site (``path:line``); ``pattern`` names many: ``caller -> callee``, each side a
    glob over function ids (``pkg.reports.* -> pkg.store.Store.save``; ``<module>`` is module level).
    """

    reason: str
    at: str | None = None
    pattern: str | None = None
    plan_line: int = 0  # where the acceptance is written, so findings can point at it

    def matches(self, path: str, line: int, caller: str, callee: str) -> bool:
        if self.at is not None:
            return self.at == f"{path}:{line}"
        assert self.pattern is not None
        caller_glob, _, callee_glob = (part.strip() for part in self.pattern.partition("->"))
        return fnmatchcase(caller, caller_glob) and fnmatchcase(callee, callee_glob)

    def describe(self) -> str:
        return f"{self.at or self.pattern} ({self.reason})"


@dataclass(frozen=True)
class PlanEntry:
    path: str
    phase: int
    complexity: str = "medium"
    effort_minutes: int = 0
    risk: str = "low"
    repositories: tuple[str, ...] = ()
    status: FileStatus = FileStatus.PENDING
    tests: tuple[str, ...] = ()
    reason: str | None = None
    history: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class Phase:
    id: int
    name: str
    priority: int
    rationale: str
    files: tuple[PlanEntry, ...]


@dataclass(frozen=True)
class Plan:
    path: Path
    root: Path  # the directory the plan's relative paths start from
    source: tuple[str, ...]
    tests: tuple[str, ...]
    test_command: tuple[str, ...]
    exclude: tuple[str, ...]
    facade: Facade
    repositories: dict[str, Repository]
    mappings: dict[str, Mapping]
    unmapped: tuple[str, ...]  # facade methods the plan says have no async counterpart
    async_callbacks: tuple[str, ...]
    phases: tuple[Phase, ...]
    # sync callables with an async counterpart, used once the caller is async: "EventBus.publish" ->
    # "publish_async" (a method of the same object) or "time.sleep" -> "asyncio.sleep" (a function)
    async_variants: dict[str, str] = field(default_factory=dict)
    # project functions that take a coroutine object and run it (a scheduler, a retry helper): handing one
    # a coroutine is not forgetting to await it
    coroutine_consumers: tuple[str, ...] = ()
    # the tests an apply runs: "selected" (those that can reach the change) or "all" (the whole suite)
    test_selection: str = "selected"
    # decorators (qualified names) that work unchanged on a coroutine function
    async_aware_decorators: tuple[str, ...] = ()
    test_timeout: float = DEFAULT_TEST_TIMEOUT
    python_path: tuple[str, ...] = ()  # import roots, root-relative; () = the default (see modules.py)
    accepted_doubts: tuple[AcceptedDoubt, ...] = ()
    frameworks: tuple[str, ...] = FRAMEWORK_NAMES  # the adapters this migration uses
    # The round-trip YAML document the plan was validated from (None for a plan built in code, or one
    # read back from the cache: ``document`` then parses ``text`` when first asked for).
    yaml_document: Any = field(default=None, compare=False, repr=False)
    text: str | None = field(default=None, compare=False, repr=False)  # the plan file's text, as read

    @functools.cached_property
    def document(self) -> Any:
        """The round-trip document (comments, key order) the plan says what it says in."""
        if self.yaml_document is not None or self.text is None:
            return self.yaml_document
        return _yaml().load(self.text)

    @functools.cached_property
    def settings_digest(self) -> str:
        return _settings_fingerprint(self)

    def __getstate__(self) -> dict[str, Any]:
        # Pickled (into the cache, to a worker) without the YAML document, which is large, slow to
        # pickle and needs ruamel.yaml to load: ``document`` parses ``text`` again if it is needed.
        state = dict(self.__dict__)
        state.pop("document", None)
        if self.text is not None:
            state["yaml_document"] = None
        return state

    def entries(self) -> Iterator[PlanEntry]:
        for phase in self.phases:
            yield from phase.files

    def entry(self, path: str) -> PlanEntry | None:
        return next((e for e in self.entries() if e.path == path), None)

    def awaits(self, facade_method: str) -> bool:
        """Whether the rewritten call of a mapped facade method is awaited (per method, else per repository)."""
        mapping = self.mappings[facade_method]
        if mapping.awaitable is not None:
            return mapping.awaitable
        return self.repositories[mapping.repository].awaitable

    def phase(self, phase_id: int) -> Phase:
        for phase in self.phases:
            if phase.id == phase_id:
                return phase
        raise PlanError(f"{self.path}: no phase {phase_id} (phases: {[p.id for p in self.phases]})")


# --- validation -------------------------------------------------------------------------------


class _Where:
    """Turns a position in the YAML tree into ``plan.yaml:LINE: key.path``."""

    def __init__(self, filename: str) -> None:
        self.filename = filename

    def error(self, node: Any, key: str | int | None, keypath: str, problem: str) -> PlanError:
        line = _line_of(node, key)
        location = f"{self.filename}:{line}" if line else self.filename
        return PlanError(f"{location}: {keypath}: {problem}")


def _line_of(node: Any, key: str | int | None) -> int | None:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    try:
        if key is None:
            return int(node.lc.line) + 1
        if isinstance(node, CommentedMap):
            return int(node.lc.key(key)[0]) + 1
        if isinstance(node, CommentedSeq):
            return int(node.lc.item(key)[0]) + 1
    except (AttributeError, KeyError, TypeError, IndexError):
        return None
    return None


_TYPE_NAMES: dict[type, str] = {
    str: "a string",
    int: "an integer",
    bool: "true or false",
    list: "a list",
    dict: "a mapping",
}


def _check_type(where: _Where, parent: Any, key: str | int, keypath: str, value: Any, kind: type) -> None:
    ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
    if not ok:
        got = "nothing" if value is None else type(value).__name__
        raise where.error(parent, key, keypath, f"must be {_TYPE_NAMES[kind]}, got {got}")


def _check_keys(where: _Where, node: Any, keypath: str, allowed: Collection[str], required: Collection[str]) -> None:
    for key in node:
        if key not in allowed:
            choices = ", ".join(sorted(allowed))
            raise where.error(node, key, f"{keypath}.{key}".lstrip("."), f"unknown key (expected one of: {choices})")
    for key in sorted(required):
        if key not in node:
            raise where.error(node, None, f"{keypath}.{key}".lstrip("."), "required key is missing")


def _str_list(where: _Where, parent: Any, key: str, keypath: str) -> tuple[str, ...]:
    value = parent.get(key)
    if value is None:
        return ()
    _check_type(where, parent, key, keypath, value, list)
    for index, item in enumerate(value):
        _check_type(where, value, index, f"{keypath}[{index}]", item, str)
    return tuple(value)


def _str_or_list(where: _Where, parent: Any, key: str, keypath: str) -> tuple[str, ...]:
    value = parent.get(key)
    if isinstance(value, str):
        return (value,)
    return _str_list(where, parent, key, keypath)


def _get(where: _Where, node: Any, key: str, keypath: str, kind: type, default: Any = None) -> Any:
    if key not in node:
        return default
    value = node[key]
    _check_type(where, node, key, keypath, value, kind)
    return value


def _parse_facade(where: _Where, node: Any) -> Facade:
    _check_type(where, node, "facade", "facade", node.get("facade"), dict)
    facade = node["facade"]
    _check_keys(where, facade, "facade", plan_schema.keys("facade"), plan_schema.required_keys("facade"))
    factories = _str_list(where, facade, "factories", "facade.factories")
    if not factories:
        raise where.error(facade, "factories", "facade.factories", "must name at least one factory")
    return Facade(
        factories=factories,
        classes=_str_list(where, facade, "classes", "facade.classes"),
        receiver_names=_str_list(where, facade, "receiver_names", "facade.receiver_names"),
        methods=_str_list(where, facade, "methods", "facade.methods"),
    )


def _parse_repositories(where: _Where, node: Any) -> dict[str, Repository]:
    from ruamel.yaml.comments import CommentedMap

    repos_node = _get(where, node, "repositories", "repositories", dict, CommentedMap())
    repositories: dict[str, Repository] = {}
    for name, spec in repos_node.items():
        keypath = f"repositories.{name}"
        _check_type(where, repos_node, name, keypath, spec, dict)
        _check_keys(
            where,
            spec,
            keypath,
            plan_schema.keys("repository"),
            plan_schema.required_keys("repository"),
        )
        attribute = _get(where, spec, "attribute", f"{keypath}.attribute", str)
        if not attribute.isidentifier():
            raise where.error(spec, "attribute", f"{keypath}.attribute", f"{attribute!r} is not a Python identifier")
        provider = _get(where, spec, "provider", f"{keypath}.provider", str)
        from_received = _parse_from_received(where, spec, keypath, provider)
        if provider is None and from_received is None:
            raise where.error(
                spec, None, keypath, "needs `provider` (for code that obtains the facade), `from_received`, or both"
            )
        repositories[name] = Repository(
            name=name,
            class_name=_get(where, spec, "class", f"{keypath}.class", str),
            provider=provider,
            attribute=attribute,
            awaitable=_get(where, spec, "awaitable", f"{keypath}.awaitable", bool, True),
            from_received=from_received,
        )
    return repositories


def _parse_from_received(where: _Where, spec: Any, keypath: str, provider: str | None) -> str | None:
    value: str | None = _get(where, spec, "from_received", f"{keypath}.from_received", str)
    if value is None:
        return None
    keypath = f"{keypath}.from_received"
    if value == FROM_RECEIVED_DEPENDS:
        if provider is None:
            raise where.error(spec, "from_received", keypath, "`depends` needs the repository's `provider`")
        return value
    if value == FROM_RECEIVED_ITSELF:
        return value
    if value.startswith(FROM_RECEIVED_ATTRIBUTE):
        path = value[len(FROM_RECEIVED_ATTRIBUTE) :]
        if path and all(part.isidentifier() for part in path.split(".")):
            return value
        raise where.error(spec, "from_received", keypath, f"{value!r}: the attribute path must be dotted identifiers")
    raise where.error(
        spec, "from_received", keypath, f"{value!r} is not one of: itself, attribute:<dotted.path>, depends"
    )


def _parse_target(
    where: _Where, parent: Any, key: str, keypath: str, target: str, repositories: dict[str, Repository]
) -> tuple[str, str]:
    repo, dot, method = target.partition(".")
    if not dot or not method.isidentifier():
        raise where.error(parent, key, keypath, f"{target!r} must read repository.method")
    if repo not in repositories:
        known = ", ".join(sorted(repositories)) or "none"
        raise where.error(parent, key, keypath, f"repository {repo!r} does not exist (repositories: {known})")
    return repo, method


_MAPPING_KEYS = plan_schema.keys("mapping_object")


def _identifier(where: _Where, parent: Any, key: str | int, keypath: str, value: Any) -> str:
    _check_type(where, parent, key, keypath, value, str)
    if not value.isidentifier():
        raise where.error(parent, key, keypath, f"{value!r} is not a Python identifier")
    return str(value)


def _qualified(where: _Where, parent: Any, key: str, keypath: str) -> str:
    value = _get(where, parent, key, keypath, str)
    module, dot, name = value.rpartition(".")
    if not dot or not name.isidentifier() or not all(part.isidentifier() for part in module.split(".")):
        raise where.error(parent, key, keypath, f"{value!r} must be a qualified name (package.module.name)")
    return str(value)


def _constant(where: _Where, parent: Any, key: str, keypath: str, value: Any) -> str:
    if value is not None and not isinstance(value, str | int | float | bool):
        got = type(value).__name__
        raise where.error(parent, key, keypath, f"must be a string, a number, true, false or null, got {got}")
    return repr(value if not isinstance(value, str) else str(value))


def _parse_pack(where: _Where, spec: Any, keypath: str) -> Pack:
    node = spec["pack"]
    _check_type(where, spec, "pack", keypath, node, dict)
    _check_keys(where, node, keypath, plan_schema.keys("pack"), plan_schema.required_keys("pack"))
    fields_node = node["fields"]
    fields: list[tuple[str, str]] = []
    if isinstance(fields_node, list):
        for i, name in enumerate(fields_node):
            fields.append((_identifier(where, fields_node, i, f"{keypath}.fields[{i}]", name),) * 2)
    elif isinstance(fields_node, dict):
        for old, new in fields_node.items():
            fields.append(
                (
                    _identifier(where, fields_node, old, f"{keypath}.fields.{old}", old),
                    _identifier(where, fields_node, old, f"{keypath}.fields.{old}", new),
                )
            )
    else:
        _check_type(where, node, "fields", f"{keypath}.fields", fields_node, list)
    if not fields:
        raise where.error(node, "fields", f"{keypath}.fields", "must name at least one facade parameter")
    keyword = node.get("keyword")
    if keyword is not None:
        keyword = _identifier(where, node, "keyword", f"{keypath}.keyword", keyword)
    return Pack(_qualified(where, node, "class", f"{keypath}.class"), tuple(fields), keyword)


def _parse_mapping_spec(
    where: _Where, method: str, spec: Any, keypath: str, repositories: dict[str, Repository]
) -> Mapping:
    from ruamel.yaml.comments import CommentedMap

    _check_keys(where, spec, keypath, _MAPPING_KEYS, plan_schema.required_keys("mapping_object"))
    target = _get(where, spec, "target", f"{keypath}.target", str)
    repo, target_method = _parse_target(where, spec, "target", f"{keypath}.target", target, repositories)
    args_node = _get(where, spec, "args", f"{keypath}.args", dict, CommentedMap())
    for old, new in args_node.items():
        _identifier(where, args_node, old, f"{keypath}.args.{old}", new)
    positional: tuple[str, ...] | None = None
    if "positional" in spec:
        names = _get(where, spec, "positional", f"{keypath}.positional", list)
        for i, name in enumerate(names):
            _identifier(where, names, i, f"{keypath}.positional[{i}]", name)
            if name in names[:i]:
                raise where.error(names, i, f"{keypath}.positional[{i}]", f"{name!r} is listed twice")
        positional = tuple(names)
    constants_node = _get(where, spec, "constants", f"{keypath}.constants", dict, CommentedMap())
    constants = tuple(
        (
            _identifier(where, constants_node, k, f"{keypath}.constants.{k}", k),
            _constant(where, constants_node, k, f"{keypath}.constants.{k}", v),
        )
        for k, v in constants_node.items()
    )
    pack = _parse_pack(where, spec, f"{keypath}.pack") if "pack" in spec else None
    if pack is not None and positional is not None:
        for name, _ in pack.fields:
            if name in positional:
                raise where.error(spec, "pack", f"{keypath}.pack.fields", f"{name!r} is also listed under positional")
    adapter = _qualified(where, spec, "adapter", f"{keypath}.adapter") if "adapter" in spec else None
    awaitable = _get(where, spec, "awaitable", f"{keypath}.awaitable", bool, None)
    return Mapping(
        method,
        repo,
        target_method,
        tuple((str(k), str(v)) for k, v in args_node.items()),
        positional,
        constants,
        pack,
        adapter,
        awaitable,
    )


def _parse_mappings(
    where: _Where, node: Any, repositories: dict[str, Repository]
) -> tuple[dict[str, Mapping], tuple[str, ...]]:
    from ruamel.yaml.comments import CommentedMap

    maps_node = _get(where, node, "mappings", "mappings", dict, CommentedMap())
    mappings: dict[str, Mapping] = {}
    unmapped: list[str] = []
    for method, spec in maps_node.items():
        keypath = f"mappings.{method}"
        if spec is None:  # "method: null" records a facade method with no async counterpart
            unmapped.append(method)
            continue
        if isinstance(spec, dict):
            mappings[method] = _parse_mapping_spec(where, method, spec, keypath, repositories)
            continue
        _check_type(where, maps_node, method, keypath, spec, str)
        repo, target_method = _parse_target(where, maps_node, method, keypath, spec, repositories)
        mappings[method] = Mapping(method, repo, target_method)
    return mappings, tuple(unmapped)


_FILE_KEYS = plan_schema.keys("file")
_PHASE_KEYS = plan_schema.keys("phase")


def _parse_entry(
    where: _Where,
    files: Any,
    index: int,
    phase_id: int,
    root: Path,
    repositories: dict[str, Repository],
    check_files: bool,
) -> PlanEntry:
    spec = files[index]
    keypath = f"phases[{phase_id}].files[{index}]"
    _check_type(where, files, index, keypath, spec, dict)
    _check_keys(where, spec, keypath, _FILE_KEYS, plan_schema.required_keys("file"))
    path = _get(where, spec, "path", f"{keypath}.path", str)
    normal = posixpath.normpath(path) if path else path
    if not path or normal.startswith("/") or normal == ".." or normal.startswith("../") or "\0" in path:
        # apply rewrites what the plan names: never a file outside the plan's directory
        raise where.error(spec, "path", f"{keypath}.path", f"{path!r} must be a file inside the plan's directory")
    if normal != path:
        raise where.error(spec, "path", f"{keypath}.path", f"write {path!r} as {normal!r}")
    keypath = f"phases[{phase_id}].files[{path}]"
    # A planned file that is missing is not a mistake in the plan: `status` and `check` report it,
    # and `rollback` of its entry is how a deleted file comes back, so loading must not refuse it.
    for level_key in ("complexity", "risk"):
        level = _get(where, spec, level_key, f"{keypath}.{level_key}", str, None)
        if level is not None and level not in LEVELS:
            raise where.error(spec, level_key, f"{keypath}.{level_key}", f"{level!r} is not one of {', '.join(LEVELS)}")
    effort = _get(where, spec, "effort_minutes", f"{keypath}.effort_minutes", int, 0)
    if effort < 0:
        raise where.error(spec, "effort_minutes", f"{keypath}.effort_minutes", "must not be negative")
    repos = _str_list(where, spec, "repositories", f"{keypath}.repositories")
    for i, repo in enumerate(repos):
        if repo not in repositories:
            raise where.error(
                spec["repositories"], i, f"{keypath}.repositories[{i}]", f"repository {repo!r} does not exist"
            )
    status_text = _get(where, spec, "status", f"{keypath}.status", str, FileStatus.PENDING.value)
    try:
        status = FileStatus(status_text)
    except ValueError:
        choices = ", ".join(s.value for s in FileStatus)
        raise where.error(spec, "status", f"{keypath}.status", f"{status_text!r} is not one of {choices}") from None
    history = _get(where, spec, "history", f"{keypath}.history", list, [])
    for i, event in enumerate(history):
        _check_type(where, history, i, f"{keypath}.history[{i}]", event, dict)
    return PlanEntry(
        path=path,
        phase=phase_id,
        complexity=spec.get("complexity", "medium"),
        effort_minutes=effort,
        risk=spec.get("risk", "low"),
        repositories=repos,
        status=status,
        tests=_str_list(where, spec, "tests", f"{keypath}.tests"),
        # `reason: null` is how the README's example (and a cleared reason) writes "no reason"
        reason=None if spec.get("reason") is None else _get(where, spec, "reason", f"{keypath}.reason", str),
        history=tuple(_plain(e) for e in history),
    )


def _parse_phases(
    where: _Where, node: Any, root: Path, repositories: dict[str, Repository], check_files: bool
) -> tuple[Phase, ...]:
    from ruamel.yaml.comments import CommentedSeq

    phases_node = _get(where, node, "phases", "phases", list, CommentedSeq())
    phases: list[Phase] = []
    seen_paths: dict[str, int] = {}
    seen_ids: set[int] = set()
    for index, spec in enumerate(phases_node):
        _check_type(where, phases_node, index, f"phases[{index}]", spec, dict)
        _check_keys(where, spec, f"phases[{index}]", _PHASE_KEYS, plan_schema.required_keys("phase"))
        phase_id = _get(where, spec, "id", f"phases[{index}].id", int)
        if phase_id in seen_ids:
            raise where.error(spec, "id", f"phases[{index}].id", f"phase {phase_id} is defined twice")
        seen_ids.add(phase_id)
        files = _get(where, spec, "files", f"phases[{phase_id}].files", list)
        entries = []
        for file_index in range(len(files)):
            entry = _parse_entry(where, files, file_index, phase_id, root, repositories, check_files)
            if entry.path in seen_paths:
                raise where.error(
                    files[file_index],
                    "path",
                    f"phases[{phase_id}].files[{entry.path}]",
                    f"already listed in phase {seen_paths[entry.path]}",
                )
            seen_paths[entry.path] = phase_id
            entries.append(entry)
        phases.append(
            Phase(
                id=phase_id,
                name=_get(where, spec, "name", f"phases[{phase_id}].name", str, f"Phase {phase_id}"),
                priority=_get(where, spec, "priority", f"phases[{phase_id}].priority", int, phase_id),
                rationale=_get(where, spec, "rationale", f"phases[{phase_id}].rationale", str, ""),
                files=tuple(entries),
            )
        )
    return tuple(phases)


_TOP_KEYS = plan_schema.keys("plan")  # the schema is the one list of the keys a plan may have


def _plain(value: Any) -> Any:
    """ruamel's commented containers -> plain dicts and lists (for frozen views and JSON)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def parse_plan(document: Any, path: Path, *, check_files: bool = True, text: str | None = None) -> Plan:
    """Validate a loaded YAML document (parsed from ``text``, when given); raise PlanError naming
    file:line and the key."""
    from ruamel.yaml.comments import CommentedMap

    where = _Where(str(path))
    if not isinstance(document, CommentedMap):
        raise PlanError(f"{path}:1: the plan must be a YAML mapping at the top level")
    _check_keys(where, document, "", _TOP_KEYS, plan_schema.required_keys("plan"))
    version = _get(where, document, "version", "version", int)
    if version != PLAN_VERSION:
        raise where.error(
            document, "version", "version", f"unsupported version {version} (this tool reads {PLAN_VERSION})"
        )
    root = path.parent
    source = _str_or_list(where, document, "source", "source") or (".",)
    for i, src in enumerate(source):
        if check_files and not (root / src).exists():
            raise where.error(document, "source", f"source[{i}]", f"directory {src!r} does not exist")
    test_command = _parse_test_command(where, document)
    repositories = _parse_repositories(where, document)
    mappings, unmapped = _parse_mappings(where, document, repositories)
    plan = Plan(
        path=path,
        root=root,
        source=source,
        tests=_str_or_list(where, document, "tests", "tests"),
        test_command=test_command,
        exclude=_str_list(where, document, "exclude", "exclude"),
        facade=_parse_facade(where, document),
        repositories=repositories,
        mappings=mappings,
        unmapped=unmapped,
        async_callbacks=_str_list(where, document, "async_callbacks", "async_callbacks"),
        async_variants=_parse_async_variants(where, document),
        coroutine_consumers=_dotted_names(where, document, "coroutine_consumers"),
        test_selection=_test_selection(where, document),
        async_aware_decorators=_dotted_names(where, document, "async_aware_decorators"),
        python_path=_parse_python_path(where, document, root, check_files),
        accepted_doubts=_parse_accepted_doubts(where, document),
        phases=_parse_phases(where, document, root, repositories, check_files),
        test_timeout=_parse_test_timeout(where, document),
        frameworks=_parse_frameworks(where, document),
        yaml_document=document,
        text=text,
    )
    # Last, over what the checks above let through: the schema editors complete from is the contract.
    plan_schema.validate(document, _plain(document), str(path))
    plain: Plan = _plain_values(plan)
    return plain


def _plain_values(value: Any) -> Any:
    """``value`` with ruamel.yaml's string subclasses (a quoted scalar is one) as plain ``str``, all
    through tuples, lists, dicts and the plan's dataclasses: a plan read back from the cache must not
    need ruamel.yaml to be unpickled."""
    if type(value) is str or isinstance(value, enum.Enum):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, tuple):
        return tuple(_plain_values(item) for item in value)
    if isinstance(value, list):
        return [_plain_values(item) for item in value]
    if isinstance(value, dict) and not hasattr(value, "lc"):  # the YAML document itself stays as it is
        return {_plain_values(key): _plain_values(item) for key, item in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = [f for f in dataclasses.fields(value) if f.init and f.compare]
        changes = {f.name: _plain_values(getattr(value, f.name)) for f in fields}
        return dataclasses.replace(value, **changes)
    return value


def _test_selection(where: _Where, document: Any) -> str:
    value = _get(where, document, "test_selection", "test_selection", str, "selected")
    if value not in ("selected", "all"):
        raise where.error(document, "test_selection", "test_selection", f"must be selected or all, got {value!r}")
    return str(value)


def _parse_frameworks(where: _Where, document: Any) -> tuple[str, ...]:
    if document.get("frameworks") is None:
        return FRAMEWORK_NAMES
    names = _str_list(where, document, "frameworks", "frameworks")
    node = document["frameworks"]
    for index, name in enumerate(names):
        if name not in FRAMEWORK_NAMES:
            problem = f"unknown framework {name!r} (known: {', '.join(FRAMEWORK_NAMES)})"
            raise where.error(node, index, f"frameworks[{index}]", problem)
        if name in names[:index]:
            raise where.error(node, index, f"frameworks[{index}]", f"{name!r} is listed twice")
    return names


def _dotted_names(where: _Where, document: Any, key: str) -> tuple[str, ...]:
    names = _str_list(where, document, key, key)
    node = document.get(key)
    for index, name in enumerate(names):
        if "." not in name or not all(part.isidentifier() for part in name.split(".")):
            problem = "must be a dotted name (module.function or module.Class.method)"
            raise where.error(node, index, f"{key}[{index}]", problem)
    return names


def _parse_test_command(where: _Where, document: Any) -> tuple[str, ...]:
    if "test_command" not in document:
        return ("python", "-m", "pytest", "-q")
    command = _str_list(where, document, "test_command", "test_command")
    if not command:  # an empty list is a mistake, not a request for the default
        raise where.error(
            document, "test_command", "test_command", "is empty (leave the key out for python -m pytest -q)"
        )
    if not command[0].strip():
        raise where.error(document["test_command"], 0, "test_command[0]", "the program name is empty")
    return command


def _parse_test_timeout(where: _Where, document: Any) -> float:
    value = document.get("test_timeout", DEFAULT_TEST_TIMEOUT)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < float("inf"):
        problem = f"must be a positive number of seconds, got {value!r}"
        raise where.error(document, "test_timeout", "test_timeout", problem)
    return float(value)


def _parse_async_variants(where: _Where, document: Any) -> dict[str, str]:
    node = _get(where, document, "async_variants", "async_variants", dict, {})
    variants: dict[str, str] = {}
    for key, value in node.items():
        keypath = f"async_variants.{key}"
        _check_type(where, node, key, keypath, value, str)
        if not isinstance(key, str) or "." not in key:
            raise where.error(node, key, keypath, "must be a dotted name (module.Class.method or module.function)")
        variants[key] = value
    return variants


def _parse_python_path(where: _Where, document: Any, root: Path, check_files: bool) -> tuple[str, ...]:
    roots = _str_list(where, document, "python_path", "python_path")
    for index, directory in enumerate(roots):
        if Path(directory).is_absolute() or ".." in Path(directory).parts:
            raise where.error(
                document["python_path"], index, f"python_path[{index}]", "must be a directory inside the project"
            )
        if check_files and not (root / directory).is_dir():
            raise where.error(
                document["python_path"], index, f"python_path[{index}]", f"directory {directory!r} does not exist"
            )
    return roots


_AT = re.compile(r"^(?P<path>[^:]+):(?P<line>[1-9][0-9]*)$")


def _parse_accepted_doubts(where: _Where, document: Any) -> tuple[AcceptedDoubt, ...]:
    items = _get(where, document, "accepted_doubts", "accepted_doubts", list, [])
    accepted = []
    for index, item in enumerate(items):
        keypath = f"accepted_doubts[{index}]"
        _check_type(where, items, index, keypath, item, dict)
        _check_keys(
            where, item, keypath, plan_schema.keys("accepted_doubt"), plan_schema.required_keys("accepted_doubt")
        )
        reason = _get(where, item, "reason", f"{keypath}.reason", str)
        if not reason.strip():
            raise where.error(item, "reason", f"{keypath}.reason", "say why the call cannot reach the async function")
        at = _get(where, item, "at", f"{keypath}.at", str)
        pattern = _get(where, item, "pattern", f"{keypath}.pattern", str)
        if (at is None) == (pattern is None):
            problem = "give exactly one of `at: path:line` or `pattern: caller -> callee`"
            raise where.error(items, index, keypath, problem)
        if at is not None and not _AT.match(at):
            raise where.error(item, "at", f"{keypath}.at", f"{at!r} is not path:line (e.g. src/pkg/mod.py:42)")
        if pattern is not None:
            caller, arrow, callee = (part.strip() for part in pattern.partition("->"))
            if not arrow or not caller or not callee:
                raise where.error(
                    item, "pattern", f"{keypath}.pattern", f"{pattern!r} is not `caller -> callee` (globs over ids)"
                )
        line = getattr(getattr(item, "lc", None), "line", None)
        accepted.append(AcceptedDoubt(reason.strip(), at, pattern, line + 1 if isinstance(line, int) else 0))
    return tuple(accepted)


@functools.cache
def _no_alias_composer() -> type[Composer]:
    """A composer that refuses anchors and aliases as they are read, before anything is built from them.

    A plan has no use for them, and a few lines of nested aliases (a "billion laughs") expand into
    gigabytes the moment the history is copied or saved. (Made on first use: ruamel.yaml is loaded
    only when a plan's YAML is read or written, never for a plan the cache holds.)
    """
    from ruamel.yaml.composer import Composer, ComposerError
    from ruamel.yaml.events import AliasEvent

    class NoAliasComposer(Composer):
        def compose_node(self, parent: Any, index: Any) -> Any:
            event = self.parser.peek_event()
            if isinstance(event, AliasEvent) or getattr(event, "anchor", None) is not None:
                sign = "*" if isinstance(event, AliasEvent) else "&"
                raise ComposerError(
                    None,
                    None,
                    f"anchors and aliases ({sign}{event.anchor}) are not allowed in a plan; write the value out",
                    event.start_mark,
                )
            return super().compose_node(parent, index)

    return NoAliasComposer


def _yaml() -> YAML:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.Composer = _no_alias_composer()
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap people's long lines
    yaml.indent(mapping=2, sequence=4, offset=2)
    # "method: null" means "no async counterpart"; keep it written out rather than as "method:".
    yaml.representer.add_representer(type(None), lambda r, _: r.represent_scalar("tag:yaml.org,2002:null", "null"))
    return yaml


def find_plan(start: Path) -> Path:
    """The plan in ``start`` or the nearest parent directory."""
    start = start.resolve()
    for directory in (start, *start.parents):
        candidate = directory / PLAN_FILENAME
        if candidate.is_file():
            return candidate
    raise PlanError(f"no {PLAN_FILENAME} in {start} or its parents (run `asyncmigrate init`)")


def _check_size(path: Path) -> None:
    """Refuse what is not a plan before reading it: a FIFO would block, a huge file would take minutes."""
    try:
        status = os.stat(path)
    except FileNotFoundError:
        raise PlanError(f"{path}: plan file not found (run `asyncmigrate init`)") from None
    except OSError as exc:
        raise PlanError(f"{path}: cannot read plan ({exc.strerror})") from None
    if not stat.S_ISREG(status.st_mode):
        raise PlanError(f"{path}: not a regular file")
    if status.st_size > MAX_PLAN_BYTES:
        size = status.st_size / (1024 * 1024)
        shown = f"{size:.1f}" if size < 10 else f"{size:.0f}"
        raise PlanError(
            f"{path}: {shown} MB is over the {MAX_PLAN_BYTES // (1024 * 1024)} MB a plan may have; trim the history"
        )


def load_plan(path: Path, *, check_files: bool = True) -> Plan:
    """The plan at ``path``, validated. A plan whose exact bytes were validated before (at this path)
    comes from the cache, without YAML or schema validation, which are most of a quick command's
    time; only the checks that depend on the file system (``check_files``) are made again."""
    _check_size(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise PlanError(f"{path}: plan file not found (run `asyncmigrate init`)") from None
    except OSError as exc:
        raise PlanError(f"{path}: cannot read plan ({exc.strerror})") from None
    cached_plans = _cached_plans(path)
    key = content_key(str(path), str(path.absolute()), data)
    cached = cached_plans.get(key)
    if isinstance(cached, Plan) and not (check_files and _missing_directories(cached)):
        return cached
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PlanError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # as reading in text mode would
    from ruamel.yaml.error import MarkedYAMLError

    try:
        document = _yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        raise PlanError(f"{path}{line}: invalid YAML: {problem}") from None
    except Exception as exc:  # ruamel raises a few unmarked errors (e.g. DuplicateKeyError variants)
        raise PlanError(f"{path}: invalid YAML: {exc}".splitlines()[0]) from None
    plan = parse_plan(document, path, check_files=check_files, text=text)
    plan.settings_digest  # noqa: B018 - computed now, so that it is cached with the plan
    # Kept only where a command that analyses the tree made the cache directory (scan, check, apply):
    # reading a plan (status, report, a test loading a fixture) does not add a directory to a tree.
    if cache_dir(path.parent).is_dir():
        cached_plans.put(key, plan)
    else:
        _unkept[path] = (key, plan)
    return plan


# The plans loaded before their tree had a cache directory, by path, with their key: the command that
# then made the directory (the first scan of a tree) keeps its plan, so the next command reads no YAML.
_unkept: dict[Path, tuple[bytes, Plan]] = {}


def keep_plan(plan: Plan) -> None:
    """Keep ``plan`` in the cache, now that its tree has a cache directory, if it is a plan ``load_plan``
    parsed without one (under the key of the bytes it parsed)."""
    unkept = _unkept.get(plan.path)
    if unkept is None or unkept[1] is not plan or not cache_dir(plan.path.parent).is_dir():
        return
    del _unkept[plan.path]
    _cached_plans(plan.path).put(unkept[0], plan)


def _cached_plans(path: Path) -> KeyedResults:
    """The parsed plans kept beside the plan at ``path``, by the key of the bytes each was parsed from."""
    return KeyedResults(path.parent, "plan", _plan_format(), limit=8)


@functools.cache
def _plan_format() -> str:
    """Derived from the plan's types: a plan cached by another shape of them is never read back."""
    return format_version(Plan)


def _missing_directories(plan: Plan) -> bool:
    """Does a directory that ``parse_plan`` checks (with ``check_files``) no longer exist?"""
    return any(not (plan.root / src).exists() for src in plan.source) or any(
        not (plan.root / directory).is_dir() for directory in plan.python_path
    )


def dump_document(document: Any) -> str:
    buffer = io.StringIO()
    _yaml().dump(document, buffer)
    return buffer.getvalue()


class PlanWriteError(PlanError):
    """The plan could not be written (a full disk, a read-only file); it was left as it was."""


def save_plan(plan: Plan) -> Plan:
    """Write the plan's document atomically and return the re-validated plan."""
    text = dump_document(plan.document)
    try:
        workspace_files.write_text_atomic(plan.path, text)
    except OSError as exc:
        raise PlanWriteError(f"could not write {plan.path} ({exc.strerror}); the plan was left as it was") from None
    return parse_plan(plan.document, plan.path, check_files=False)


# The document this process last wrote to a plan file, with the text written, by the digest of the bytes
# written: a plan whose bytes on disk are still those is that document, which saves parsing the YAML
# again (the most of an update's time, as every apply step records itself in the plan). It is handed to
# the next update, which changes it: no plan returned holds it (each holds the text written instead).
_written: dict[Path, tuple[bytes, Any, str]] = {}


def _written_document(path: Path, data: bytes) -> tuple[Any, str] | None:
    """The document last written to ``path`` as ``data`` and its text, now the caller's, or None."""
    remembered = _written.pop(path, None)
    if remembered is None or remembered[0] != file_digest(data):
        return None
    return remembered[1], remembered[2]


def _remember_written(path: Path, data: bytes, document: Any, text: str) -> None:
    _written[path] = (file_digest(data), document, text)


def _entry_block(entry: Any) -> str | None:
    """The lines a dump of the whole plan writes for ``entry`` (a mapping in a phase's ``files``),
    from a dump of the entry alone at the same depth: ``phases: - files: - <entry>``. Indentation, flow
    style and where a scalar past the line width (4096) wraps depend on the depth and the entry only, so
    the lines are the same as in the whole dump (``tests/test_plan_writes.py`` holds them to it)."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    text = dump_document(CommentedMap([("phases", CommentedSeq([CommentedMap([("files", CommentedSeq([entry]))])]))]))
    header = "phases:\n  - files:\n"
    return text[len(header) :] if text.startswith(header) else None


def _splice_entries(text: str, before: dict[str, str | None], document: Any) -> str | None:
    """``text`` (the whole dump of a document) with the blocks ``before`` of the entries (by path) an
    update changed replaced by their blocks now; None when a block cannot be found exactly once at
    the start of a line, and the whole document must be dumped instead."""
    for path, old in before.items():
        entry = find_entry_node(document, path)
        new = _entry_block(entry) if entry is not None else None
        if old is None or new is None:
            return None
        at = text.find(old)
        if at < 0 or (at > 0 and text[at - 1] != "\n") or text.find(old, at + 1) >= 0:
            return None
        text = text[:at] + new + text[at + len(old) :]
    return text


def update_plan(plan: Plan, change: Callable[[Any], None], *, entries: Sequence[str] | None = None) -> Plan:
    """Apply ``change`` to the plan as it is on disk now, validate the result, then save it atomically.

    The document is read afresh, not taken from ``plan``: a hand edit or an ``asyncmigrate mark`` made
    since ``plan`` was loaded is kept. Saving only replaces the bytes the change was based on; if the
    file changed in between, the change is made again on the new text (a few times, then PlanError).
    Bytes on disk that this process wrote itself are not parsed again: the document written is reused.
    ``entries``: the paths of the only entries ``change`` edits. Then, on a document this process wrote,
    only those entries' lines are written anew into the text written (the rest of the dump, the most of
    an update's time, would give the same lines).
    """
    for _attempt in range(5):
        try:
            before = plan.path.read_bytes()
        except OSError as exc:
            raise PlanError(f"{plan.path}: cannot read plan ({exc.strerror})") from None
        written = _written_document(plan.path, before)
        blocks: dict[str, str | None] | None = None
        if written is None:
            document = load_plan(plan.path, check_files=False).document
        else:
            document = written[0]
            if entries is not None:
                blocks = {}
                for path in entries:
                    entry = find_entry_node(document, path)
                    if entry is not None:
                        blocks[path] = _entry_block(entry)
        change(document)
        checked = parse_plan(document, plan.path, check_files=False)
        text = _splice_entries(written[1], blocks, document) if written is not None and blocks is not None else None
        if text is None:
            text = dump_document(document)
        data = text.encode("utf-8")
        try:
            workspace_files.write_atomic(plan.path, data, expect=before)
        except workspace_files.ChangedMeanwhile:
            continue
        except OSError as exc:
            raise PlanWriteError(f"could not write {plan.path} ({exc.strerror}); the plan was left as it was") from None
        # The plan returned holds the text written, not the document, which goes on to the next update
        # uncopied; it parses the text only if its document is asked for (``check`` asks, for lines).
        returned = dataclasses.replace(checked, yaml_document=None, text=text)
        returned.__dict__["settings_digest"] = checked.settings_digest
        _remember_written(plan.path, data, document, text)
        return returned
    raise PlanError(f"{plan.path}: kept changing while asyncmigrate was saving it; nothing was saved, try again")


def find_entry_node(document: Any, path: str) -> CommentedMap | None:
    """The round-trip mapping of the plan entry for ``path``, or None."""
    for phase in document.get("phases", []):
        for spec in phase.get("files", []):
            if spec.get("path") == path:
                return spec  # type: ignore[no-any-return]
    return None


def _entry_node(document: Any, path: str) -> CommentedMap:
    spec = find_entry_node(document, path)
    if spec is None:
        raise PlanError(f"{path}: not in the plan")
    return spec


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def set_status(
    document: Any,
    path: str,
    status: FileStatus,
    event: dict[str, Any],
    *,
    reason: str | None = None,
    repositories: Sequence[str] | None = None,
) -> None:
    """In a round-trip document: set an entry's status and append a history event; with
    ``repositories``, also set the entry's list to them (what a migration actually used)."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    spec = _entry_node(document, path)
    spec.fa.set_block_style()  # an entry with a history reads best one key per line
    spec["status"] = status.value
    if repositories is not None and list(spec.get("repositories") or []) != list(repositories):
        used = CommentedSeq(repositories)
        used.fa.set_flow_style()
        spec["repositories"] = used
    if reason is not None:
        spec["reason"] = reason
    history = spec.get("history")
    if not isinstance(history, list):
        history = CommentedSeq()
        spec["history"] = history
    if isinstance(history, CommentedSeq):
        history.fa.set_block_style()
    record = CommentedMap()
    record.fa.set_flow_style()  # one event per line
    record["when"] = now_iso()
    record["status"] = status.value
    for key, value in event.items():
        # a copy: one list in the records of two entries (a step of several) would be dumped as an
        # anchor and an alias, which a plan refuses when read back
        record[key] = copy.deepcopy(value)
    history.append(record)


def record_status(
    plan: Plan,
    path: str,
    status: FileStatus,
    event: dict[str, Any],
    *,
    reason: str | None = None,
    repositories: Sequence[str] | None = None,
) -> Plan:
    """Set an entry's status and append a history event (``when`` and ``status`` are filled in);
    with ``repositories``, also set the entry's list to them (what a migration actually used)."""
    return update_plan(
        plan,
        lambda document: set_status(document, path, status, event, reason=reason, repositories=repositories),
        entries=[path],
    )


def settings_fingerprint(plan: Plan) -> str:
    """A digest of what the plan says, except its entries' histories (computed once per plan)."""
    return plan.settings_digest


def _settings_fingerprint(plan: Plan) -> str:
    """A digest of what the plan says, except its entries' histories (the record of what was done, which
    no analysis reads): results computed from a plan may be cached under it. Where the tree lies is not
    part of it (the paths of a plan and of what it computes are relative to its root): a copy of a tree
    with its cache finds the results computed on the original."""

    def plain(node: Any, key: str | None = None) -> Any:
        if isinstance(node, dict):
            return [[str(k), plain(v, str(k))] for k, v in node.items() if not (k == "history" and key == "files")]
        if isinstance(node, list | tuple):
            return [plain(item, key) for item in node]
        return node if isinstance(node, bool | int | float | str) or node is None else str(node)

    said = plain(plan.document) if plan.document is not None else repr(plan)  # a plan built in code: all of it
    where = plan.path.relative_to(plan.root).as_posix() if plan.path.is_relative_to(plan.root) else plan.path.name
    payload = json.dumps([where, said])
    return hashlib.blake2b(payload.encode(), digest_size=16).hexdigest()
