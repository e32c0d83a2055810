"""Data classes and enums shared by the modules (the plan's own classes live in plan.py)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class FileStatus(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    MIGRATED = "migrated"
    VERIFIED = "verified"
    FAILED = "failed"
    BLOCKED = "blocked"
    SKIPPED = "skipped"

    @property
    def is_done(self) -> bool:
        return self in (FileStatus.MIGRATED, FileStatus.VERIFIED)


class Resolution(StrEnum):
    """How a receiver was recognised as the facade, strongest evidence first."""

    FACTORY_CALL = "factory_call"  # get_persistence().get_player(...)
    FACTORY_ASSIGNMENT = "factory_assignment"  # p = get_persistence(); p.get_player(...)
    ANNOTATION = "annotation"  # def f(persistence: PersistenceLayer)
    DEPENDS = "depends"  # persistence = Depends(get_persistence)
    SELF_ATTRIBUTE = "self_attribute"  # self.persistence = get_persistence() in the class
    APP_STATE = "app_state"  # request.app.state.persistence
    RECEIVER_NAME = "receiver_name"  # last resort: the name alone matches the plan


MODULE_LEVEL = "<module>"  # CallSite.function of a call outside any function


@dataclass(frozen=True)
class CallSite:
    """One place where code reaches a method of the sync facade."""

    path: str
    line: int
    column: int
    method: str
    receiver: str
    function: str  # "Class.method", "func", "outer.<locals>.inner" or MODULE_LEVEL
    function_is_async: bool
    awaited: bool
    target: str | None  # "player.get_player_by_id", or None when unmapped
    resolution: Resolution
    is_reference: bool = False  # the bound method is used as a value, not called
    in_lambda: bool = False
    # "to_thread" / "run_in_executor": the bound method is handed to a thread hop, which calls it
    wrapper: str | None = None

    @property
    def blocks_event_loop(self) -> bool:
        """A sync facade call executed directly inside ``async def`` stalls the event loop (an awaited
        call is to one of the facade's async methods; a thread hop runs it elsewhere)."""
        return (
            self.function_is_async
            and not self.in_lambda
            and not self.is_reference
            and not self.awaited
            and self.wrapper is None
        )

    @property
    def mapped(self) -> bool:
        return self.target is not None

    def to_json(self) -> dict[str, object]:
        return {
            "line": self.line,
            "column": self.column,
            "method": self.method,
            "receiver": self.receiver,
            "function": self.function,
            "function_is_async": self.function_is_async,
            "awaited": self.awaited,
            "target": self.target,
            "mapped": self.mapped,
            "blocks_event_loop": self.blocks_event_loop,
            "resolution": self.resolution.value,
            "is_reference": self.is_reference,
            "in_lambda": self.in_lambda,
            "wrapper": self.wrapper,
        }


@dataclass(frozen=True)
class FileReport:
    """Everything the scan knows about one file."""

    path: str
    calls: tuple[CallSite, ...] = ()
    error: str | None = None
    phase: int | None = None
    status: FileStatus | None = None
    async_reach: int = 0

    @property
    def repositories(self) -> tuple[str, ...]:
        return tuple(sorted({c.target.split(".", 1)[0] for c in self.calls if c.target}))

    @property
    def unmapped(self) -> tuple[str, ...]:
        return tuple(sorted({c.method for c in self.calls if c.target is None}))

    @property
    def blocking(self) -> tuple[CallSite, ...]:
        return tuple(c for c in self.calls if c.blocks_event_loop)


@dataclass(frozen=True)
class ScanStats:
    files_seen: int
    files_prefiltered_out: int
    files_parsed: int
    cache_hits: int
    seconds: float
    files_libcst: int = 0  # of the files parsed, those the ast collector refused: LibCST scanned them


@dataclass(frozen=True)
class Skipped:
    """A tree entry that looked like a Python file (or was named on the command line) but is not one."""

    path: str
    reason: str  # "a FIFO (named pipe)", "a symlink loop", ...


@dataclass(frozen=True)
class ScanResult:
    root: str
    files: tuple[FileReport, ...]  # files with calls, plus planned files without any
    errors: tuple[FileReport, ...]  # files that could not be read or parsed
    stats: ScanStats
    skipped: tuple[Skipped, ...] = ()  # FIFOs, sockets, devices, symlink loops: never opened

    @property
    def calls(self) -> tuple[CallSite, ...]:
        return tuple(c for f in self.files for c in f.calls)


class ExitCode:
    """Exit codes CI can rely on."""

    OK = 0
    FINDINGS = 1  # findings, changes needed, or tests failed
    USAGE = 2  # bad input: plan, paths, options, working tree
