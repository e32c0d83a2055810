"""migration_plan.yaml <-> dataclasses: validated at load, round-tripped (comments, key order) on save.

The plan is edited by people, so every mistake is reported as ``file:line: key: problem`` and saving
goes through ruamel.yaml's round-trip mode, writing a temporary file and renaming it over the plan so a
crash never leaves half a plan behind.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from asyncmigrate.errors import PlanError
from asyncmigrate.types import FileStatus

PLAN_FILENAME = "migration_plan.yaml"
PLAN_VERSION = 1
LEVELS = ("low", "medium", "high")
FROM_RECEIVED_ITSELF = "itself"
FROM_RECEIVED_ATTRIBUTE = "attribute:"
FROM_RECEIVED_DEPENDS = "depends"


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
class Mapping:
    facade_method: str
    repository: str
    method: str
    args: tuple[tuple[str, str], ...] = ()  # keyword renames, facade name -> repository name

    @property
    def target(self) -> str:
        return f"{self.repository}.{self.method}"


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
    document: Any = field(default=None, compare=False, repr=False)

    def entries(self) -> Iterator[PlanEntry]:
        for phase in self.phases:
            yield from phase.files

    def entry(self, path: str) -> PlanEntry | None:
        return next((e for e in self.entries() if e.path == path), None)

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


def _check_keys(where: _Where, node: Any, keypath: str, allowed: set[str], required: set[str]) -> None:
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
    _check_keys(where, facade, "facade", {"factories", "classes", "receiver_names", "methods"}, {"factories"})
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
    repos_node = _get(where, node, "repositories", "repositories", dict, CommentedMap())
    repositories: dict[str, Repository] = {}
    for name, spec in repos_node.items():
        keypath = f"repositories.{name}"
        _check_type(where, repos_node, name, keypath, spec, dict)
        _check_keys(
            where,
            spec,
            keypath,
            {"class", "provider", "attribute", "awaitable", "from_received"},
            {"class", "attribute"},
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


def _parse_mappings(
    where: _Where, node: Any, repositories: dict[str, Repository]
) -> tuple[dict[str, Mapping], tuple[str, ...]]:
    maps_node = _get(where, node, "mappings", "mappings", dict, CommentedMap())
    mappings: dict[str, Mapping] = {}
    unmapped: list[str] = []
    for method, spec in maps_node.items():
        keypath = f"mappings.{method}"
        if spec is None:  # "method: null" records a facade method with no async counterpart
            unmapped.append(method)
            continue
        args: tuple[tuple[str, str], ...] = ()
        if isinstance(spec, dict):
            _check_keys(where, spec, keypath, {"target", "args"}, {"target"})
            target = _get(where, spec, "target", f"{keypath}.target", str)
            args_node = _get(where, spec, "args", f"{keypath}.args", dict, CommentedMap())
            for old, new in args_node.items():
                _check_type(where, args_node, old, f"{keypath}.args.{old}", new, str)
            args = tuple((str(k), str(v)) for k, v in args_node.items())
            repo, target_method = _parse_target(where, spec, "target", f"{keypath}.target", target, repositories)
        else:
            _check_type(where, maps_node, method, keypath, spec, str)
            repo, target_method = _parse_target(where, maps_node, method, keypath, spec, repositories)
        mappings[method] = Mapping(method, repo, target_method, args)
    return mappings, tuple(unmapped)


_FILE_KEYS = {"path", "complexity", "effort_minutes", "risk", "repositories", "status", "tests", "reason", "history"}
_PHASE_KEYS = {"id", "name", "priority", "rationale", "files"}


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
    _check_keys(where, spec, keypath, _FILE_KEYS, {"path"})
    path = _get(where, spec, "path", f"{keypath}.path", str)
    keypath = f"phases[{phase_id}].files[{path}]"
    if check_files and not (root / path).is_file():
        raise where.error(spec, "path", f"{keypath}.path", f"file {path!r} does not exist")
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
        reason=_get(where, spec, "reason", f"{keypath}.reason", str, None),
        history=tuple(_plain(e) for e in history),
    )


def _parse_phases(
    where: _Where, node: Any, root: Path, repositories: dict[str, Repository], check_files: bool
) -> tuple[Phase, ...]:
    phases_node = _get(where, node, "phases", "phases", list, CommentedSeq())
    phases: list[Phase] = []
    seen_paths: dict[str, int] = {}
    seen_ids: set[int] = set()
    for index, spec in enumerate(phases_node):
        _check_type(where, phases_node, index, f"phases[{index}]", spec, dict)
        _check_keys(where, spec, f"phases[{index}]", _PHASE_KEYS, {"id", "files"})
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


_TOP_KEYS = {
    "version",
    "source",
    "tests",
    "test_command",
    "exclude",
    "facade",
    "repositories",
    "mappings",
    "async_callbacks",
    "async_variants",
    "phases",
}


def _plain(value: Any) -> Any:
    """ruamel's commented containers -> plain dicts and lists (for frozen views and JSON)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def parse_plan(document: Any, path: Path, *, check_files: bool = True) -> Plan:
    """Validate a loaded YAML document; raise PlanError naming file:line and the key."""
    where = _Where(str(path))
    if not isinstance(document, CommentedMap):
        raise PlanError(f"{path}:1: the plan must be a YAML mapping at the top level")
    _check_keys(where, document, "", _TOP_KEYS, {"version", "facade", "phases"})
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
    test_command = _str_list(where, document, "test_command", "test_command") or ("python", "-m", "pytest", "-q")
    repositories = _parse_repositories(where, document)
    mappings, unmapped = _parse_mappings(where, document, repositories)
    return Plan(
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
        phases=_parse_phases(where, document, root, repositories, check_files),
        document=document,
    )


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


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
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


def load_plan(path: Path, *, check_files: bool = True) -> Plan:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PlanError(f"{path}: plan file not found (run `asyncmigrate init`)") from None
    except UnicodeDecodeError as exc:
        raise PlanError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise PlanError(f"{path}: cannot read plan ({exc.strerror})") from None
    try:
        document = _yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        raise PlanError(f"{path}{line}: invalid YAML: {problem}") from None
    except Exception as exc:  # ruamel raises a few unmarked errors (e.g. DuplicateKeyError variants)
        raise PlanError(f"{path}: invalid YAML: {exc}".splitlines()[0]) from None
    return parse_plan(document, path, check_files=check_files)


def dump_document(document: Any) -> str:
    buffer = io.StringIO()
    _yaml().dump(document, buffer)
    return buffer.getvalue()


def atomic_write_text(path: Path, text: str) -> None:
    """Write via a temporary file in the same directory, fsync, then rename over ``path``."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    directory = path.parent
    mode = path.stat().st_mode & 0o7777 if path.exists() else None
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp_name, mode)
        os.replace(tmp_name, path)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise


def save_plan(plan: Plan) -> Plan:
    """Write the plan's document atomically and return the re-validated plan."""
    text = dump_document(plan.document)
    atomic_write_text(plan.path, text)
    return parse_plan(plan.document, plan.path, check_files=False)


def update_plan(plan: Plan, change: Callable[[Any], None]) -> Plan:
    """Apply ``change`` to the round-trip document, validate the result, then save it atomically."""
    change(plan.document)
    checked = parse_plan(plan.document, plan.path, check_files=False)
    return save_plan(checked)


def _entry_node(document: Any, path: str) -> CommentedMap:
    for phase in document.get("phases", []):
        for spec in phase.get("files", []):
            if spec.get("path") == path:
                return spec  # type: ignore[no-any-return]
    raise PlanError(f"{path}: not in the plan")


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def record_status(
    plan: Plan, path: str, status: FileStatus, event: dict[str, Any], *, reason: str | None = None
) -> Plan:
    """Set an entry's status and append a history event (``when`` and ``status`` are filled in)."""

    def change(document: Any) -> None:
        spec = _entry_node(document, path)
        spec.fa.set_block_style()  # an entry with a history reads best one key per line
        spec["status"] = status.value
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
            record[key] = value
        history.append(record)

    return update_plan(plan, change)
