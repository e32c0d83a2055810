"""The tracer that runs inside the traced test process (``asyncmigrate trace``).

Standard library only, and no import of the ``asyncmigrate`` package: the file is copied next to a
``sitecustomize.py`` put first on ``PYTHONPATH``, so it starts in whatever interpreter the test command
runs (pytest-xdist workers and other child processes too) before any test code is imported.

It records, per process, in raw form (file, ``co_qualname``, first line) that the parent maps to the
static call graph's function ids:

- every call from a project function to a project function, with the call instruction's position;
- every call of a method of the facade classes: count, total and longest duration, and how much of it
  ran on a thread whose asyncio event loop was running (it blocked the loop).

On Python 3.12+ it uses ``sys.monitoring`` (PEP 669): ``PY_START`` of code outside the project returns
``DISABLE``, so foreign code costs nothing after its first call. On 3.11 it uses ``sys.setprofile``
(and ``threading.setprofile`` for new threads). Results are written at exit to ``trace-<pid>.json`` in
the output directory the parent named; ``progress-<pid>`` holds the number of tests started so far.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
import threading
import time
from typing import Any

_CONFIG_VARIABLE = "ASYNCMIGRATE_TRACE_CONFIG"
_TOOL_NAME = "asyncmigrate-trace"


class _Tracer:
    def __init__(self, config: dict[str, Any]) -> None:
        self.root = os.path.abspath(config["root"])
        self.output = config["output"]
        self.project = set(config["files"])  # root-relative paths of the project's Python files
        self.tests = set(config["tests"])  # the test files among them
        # (path, class qualname) of the facade classes and their project base classes
        self.facade_classes = {(path, name) for path, name in config["facade_classes"]}
        self.facade_paths = {path for path, _ in self.facade_classes}
        self.paths: dict[str, str | None] = {}  # co_filename -> root-relative project path, or None
        self.codes: dict[int, tuple[Any, str | None, str | None]] = {}  # id(code) -> (code, path, facade method)
        # (id(caller code), id(callee code), caller's instruction offset) -> [count, caller code, callee code]
        self.edges: dict[tuple[int, int, int], list[Any]] = {}
        # (caller path, caller qualname, caller first line, line, method) -> [count, total, max, blocking n, blocking s]
        self.facade_calls: dict[tuple[str, str, int, int, str], list[float]] = {}
        self.open_calls: dict[int, tuple[float, tuple[str, str, int, int, str] | None, bool]] = {}
        self.tests_started = 0
        # sys.setprofile reports every resumption of a generator or coroutine as a call, made by whoever
        # resumes it; only its first start is the call (sys.monitoring's PY_START is that one only)
        self.resumptions_reported = not hasattr(sys, "monitoring") or bool(config.get("force_profile"))
        self.first_resume: dict[int, int] = {}  # id(code) -> offset of its first RESUME
        self.progress_fd: int | None = None
        self.lock = threading.Lock()

    # -- what a code object is -------------------------------------------------------------------
    def _path(self, filename: str) -> str | None:
        try:
            return self.paths[filename]
        except KeyError:
            pass
        absolute = os.path.abspath(filename)
        relative = None
        if absolute.startswith(self.root + os.sep):
            candidate = absolute[len(self.root) + 1 :].replace(os.sep, "/")
            if candidate in self.project:
                relative = candidate
        self.paths[filename] = relative
        return relative

    def _info(self, code: Any) -> tuple[Any, str | None, str | None]:
        key = id(code)
        info = self.codes.get(key)
        if info is not None and info[0] is code:
            return info
        path = self._path(code.co_filename)
        method = None
        if path is not None and path in self.facade_paths and not code.co_flags & 0x80:  # CO_COROUTINE: not blocking
            owner, _, name = code.co_qualname.rpartition(".")
            if (path, owner) in self.facade_classes and not name.startswith("_"):
                method = name
        info = (code, path, method)
        self.codes[key] = info  # the code object is kept alive, so its id is never reused
        return info

    # -- events ------------------------------------------------------------------------------------
    def started(self, frame: Any) -> bool:
        """A project function's frame started; False when the code is not the project's."""
        code = frame.f_code
        _, path, method = self._info(code)
        if path is None:
            return False
        if self.resumptions_reported and code.co_flags & 0x2A0 and frame.f_lasti != self._first_resume(code):
            return True  # a generator or coroutine resumed (CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR)
        caller = frame.f_back
        if caller is not None:
            caller_info = self._info(caller.f_code)
            if caller_info[1] is not None:
                key = (id(caller.f_code), id(code), caller.f_lasti)
                edge = self.edges.get(key)
                if edge is None:
                    self.edges[key] = [1, caller.f_code, code]
                else:
                    edge[0] += 1
            elif path in self.tests and code.co_name.startswith("test"):
                self._test_started()
            if method is not None and caller_info[2] is None:  # a facade method calling another is inside
                self._facade_started(frame, caller, method)
        return True

    def _first_resume(self, code: Any) -> int:
        offset = self.first_resume.get(id(code))
        if offset is None:
            import dis

            offset = next((i.offset for i in dis.get_instructions(code) if i.opname == "RESUME"), -1)
            self.first_resume[id(code)] = offset  # the code object is kept alive by self.codes
        return offset

    def _facade_started(self, frame: Any, caller: Any, method: str) -> None:
        # the project frame that made the call: a thread hop or a partial sits between, at most a few frames
        site = None
        outer = caller
        for _ in range(12):
            if outer is None:
                break
            _, path, _ = self._info(outer.f_code)
            if path is not None:
                line = outer.f_lineno or outer.f_code.co_firstlineno
                site = (path, outer.f_code.co_qualname, outer.f_code.co_firstlineno, line, method)
                break
            outer = outer.f_back
        asyncio = sys.modules.get("asyncio")
        blocking = asyncio is not None and asyncio.events._get_running_loop() is not None
        self.open_calls[id(frame)] = (time.perf_counter(), site, blocking)

    def returned(self, frame: Any) -> None:
        opened = self.open_calls.pop(id(frame), None)
        if opened is None:
            return
        started, site, blocking = opened
        if site is None:
            return
        elapsed = time.perf_counter() - started
        with self.lock:
            stats = self.facade_calls.get(site)
            if stats is None:
                stats = self.facade_calls[site] = [0, 0.0, 0.0, 0, 0.0]
            stats[0] += 1
            stats[1] += elapsed
            stats[2] = max(stats[2], elapsed)
            if blocking:
                stats[3] += 1
                stats[4] += elapsed

    def _test_started(self) -> None:
        self.tests_started += 1
        if self.progress_fd is None:
            try:
                self.progress_fd = os.open(
                    os.path.join(self.output, f"progress-{os.getpid()}"), os.O_WRONLY | os.O_CREAT, 0o644
                )
            except OSError:
                self.progress_fd = -1
        if self.progress_fd >= 0:
            try:
                os.pwrite(self.progress_fd, b"%d\n" % self.tests_started, 0)
            except OSError:
                pass

    # -- results -----------------------------------------------------------------------------------
    def dump(self) -> None:
        edges = []
        for (_, _, offset), (count, caller, callee) in list(self.edges.items()):
            line, end_line, col, end_col = _position(caller, offset)
            edges.append(
                [
                    self._path(caller.co_filename),
                    caller.co_qualname,
                    caller.co_firstlineno,
                    self._path(callee.co_filename),
                    callee.co_qualname,
                    callee.co_firstlineno,
                    line,
                    col,
                    end_line,
                    end_col,
                    count,
                ]
            )
        facade = [[*site, *stats] for site, stats in list(self.facade_calls.items())]
        document = {
            "pid": os.getpid(),
            "python": f"{sys.version_info[0]}.{sys.version_info[1]}",
            "tracer": "sys.monitoring" if hasattr(sys, "monitoring") else "sys.setprofile",
            "tests": self.tests_started,
            "edges": edges,
            "facade_calls": facade,
        }
        target = os.path.join(self.output, f"trace-{os.getpid()}.json")
        try:
            with open(target + ".tmp", "w", encoding="utf-8") as handle:
                json.dump(document, handle)
            os.replace(target + ".tmp", target)
        except OSError:
            pass


def _position(code: Any, offset: int) -> tuple[int | None, int | None, int | None, int | None]:
    """The source span of the instruction at byte ``offset`` (the call being made): line, end line,
    column, end column."""
    try:
        line, end_line, col, end_col = list(code.co_positions())[offset // 2]
        return line, end_line, col, end_col
    except (IndexError, ValueError, AttributeError):
        return None, None, None, None


def _install_profile(tracer: _Tracer) -> None:
    started, returned = tracer.started, tracer.returned
    open_calls = tracer.open_calls

    def profile(frame: Any, event: str, _arg: Any) -> None:
        # an exception here would unset the hook and surface in the test being run: never let one out
        try:
            if event == "call":
                started(frame)
            elif event == "return" and open_calls:
                returned(frame)
        except Exception:  # noqa: BLE001, S110
            pass

    threading.setprofile(profile)
    sys.setprofile(profile)


def _install_monitoring(tracer: _Tracer) -> None:
    monitoring = sys.monitoring  # type: ignore[attr-defined]
    tool = next(
        (candidate for candidate in (monitoring.PROFILER_ID, 3, 4, 5) if monitoring.get_tool(candidate) is None), None
    )
    if tool is None:  # every tool id taken (a profiler, a coverage tool): fall back to the profile hook
        _install_profile(tracer)
        return
    monitoring.use_tool_id(tool, _TOOL_NAME)
    events = monitoring.events
    disable = monitoring.DISABLE
    started, returned = tracer.started, tracer.returned
    open_calls = tracer.open_calls
    getframe = sys._getframe

    def on_start(code: Any, _offset: int) -> Any:
        try:
            if not started(getframe(1)):
                return disable  # not the project's code: never report it again
        except Exception:  # noqa: BLE001, S110  (an error here would surface in the test being run)
            pass
        return None

    def on_return(code: Any, _offset: int, _value: Any) -> Any:
        if open_calls:
            returned(getframe(1))
        elif tracer._info(code)[2] is None:
            return disable  # only the facade's methods need their returns
        return None

    def on_unwind(code: Any, _offset: int, _exception: Any) -> None:
        if open_calls:
            returned(getframe(1))

    monitoring.register_callback(tool, events.PY_START, on_start)
    monitoring.register_callback(tool, events.PY_RETURN, on_return)
    monitoring.register_callback(tool, events.PY_UNWIND, on_unwind)
    monitoring.set_events(tool, events.PY_START | events.PY_RETURN | events.PY_UNWIND)


def start() -> None:
    """Start tracing this process, as the configuration named by the environment says."""
    location = os.environ.get(_CONFIG_VARIABLE)
    if not location:
        return
    try:
        with open(location, encoding="utf-8") as handle:
            config = json.load(handle)
    except (OSError, ValueError):
        return
    tracer = _Tracer(config)
    if hasattr(sys, "monitoring") and not config.get("force_profile"):
        _install_monitoring(tracer)
    else:
        _install_profile(tracer)
    atexit.register(tracer.dump)
