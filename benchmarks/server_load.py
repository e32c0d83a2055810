"""The payoff, measured: the bundled server under concurrent load, before and after ``apply --all``.

Copies ``server/``, ``migration_plan.yaml`` and ``pyproject.toml`` twice into a temporary directory, leaves
one copy as it is ("before": ``async def`` endpoints calling the sync facade, which blocks the event loop) and
migrates the other with ``python -m asyncmigrate apply --all --no-test`` ("after"). Then, for each database and each
tree, it starts the server the way it is run (``uvicorn server.main:app``, one worker, no access log) on a
fresh database, seeds it (the server's own ``python -m server.cli spawn-npcs``, then players and chests
through its HTTP API) and drives it, from this process, with a fixed concurrent mix for a fixed time:

* most workers loop over database-heavy endpoints (player by id and by name, who is in a room, the
  players of a room, a room's containers, the population statistics, a rename), back to back;
* a few workers probe ``GET /api/ping``, which touches no database, at a fixed pace; its latency is how
  long a request that needs nothing but the event loop waits for it.

It prints requests per second (all, and the database endpoints alone), the probe's p50/p99 latency and
every non-2xx answer or failed request, per database and tree.

    python benchmarks/server_load.py [--duration 15] [--concurrency 32] [--databases sqlite,postgresql]
                                     [--json results.json]

The load generator shares the machine (and its cores) with the server and the database: the figures
compare the two trees in the same run, they are not the server's capacity.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPOSITORY = Path(__file__).resolve().parent.parent
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
# The plan's one file the tool blocks on the bundled server (its test asserts `inspect.isgenerator` on a
# generator that would turn async); tests/test_end_to_end.py holds the migration to exactly this outcome.
KNOWN_BLOCKED = {"server/npc/behaviors.py"}
TREES = ("before", "after")
PING = "/api/ping"
SEED_PLAYERS = 60
READY_TIMEOUT_SECONDS = 90
REQUEST_TIMEOUT_SECONDS = 60
_IGNORE = shutil.ignore_patterns("__pycache__", "*.db", "*.db-*", ".*cache")


class BenchmarkError(RuntimeError):
    """The benchmark cannot produce honest figures (the migration failed, a server did not start)."""


# --- the two trees --------------------------------------------------------------------------------------


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def _copy_tree(target: Path) -> Path:
    target.mkdir(parents=True)
    shutil.copytree(REPOSITORY / "server", target / "server", ignore=_IGNORE)
    # The plan, and the pytest configuration `apply` reads (asyncio_mode decides how fixtures may turn async).
    for name in ("migration_plan.yaml", "pyproject.toml"):
        shutil.copy2(REPOSITORY / name, target / name)
    return target


def _migrate(root: Path) -> dict[str, Any]:
    """``apply --all --no-test`` in ``root``; raises unless every planned file but the known blocked ones
    migrated. Returns the counts for the report."""
    from asyncmigrate.config.plan import load_plan
    from asyncmigrate.types import FileStatus

    # apply refuses to write over uncommitted edits: the copy is a repository of its own, committed.
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "-c", "user.name=benchmark", "-c", "user.email=benchmark@localhost", "commit", "-qm", "before")
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "asyncmigrate", "apply", "--all", "--no-test", "--no-diff"],
        cwd=root, capture_output=True, text=True,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    output = completed.stdout + completed.stderr
    (root.parent / "apply.log").write_text(output)
    statuses = {entry.path: entry.status for entry in load_plan(root / "migration_plan.yaml").entries()}
    migrated = {p for p, s in statuses.items() if s in (FileStatus.MIGRATED, FileStatus.VERIFIED)}
    blocked = {p for p, s in statuses.items() if s is FileStatus.BLOCKED}
    others = {p: str(s) for p, s in statuses.items() if p not in migrated | blocked}
    # Exit 1 is apply's answer when a file is blocked; anything else but 0 is a failure of the run.
    if completed.returncode not in (0, 1) or blocked != KNOWN_BLOCKED or others:
        raise BenchmarkError(
            f"migrating the copy failed (exit {completed.returncode}): blocked {sorted(blocked)}, "
            f"expected {sorted(KNOWN_BLOCKED)}; not migrated {others}\n{output[-3000:]}"
        )
    return {
        "exit_code": completed.returncode,
        "planned": len(statuses),
        "migrated": len(migrated),
        "blocked": sorted(blocked),
        "seconds": round(seconds, 1),
    }


def _check_imports_from(root: Path) -> None:
    """The server the benchmark starts must be the copy's, not the one installed with the project."""
    found = subprocess.run(
        [sys.executable, "-c", "import server; print(server.__file__)"],
        cwd=root, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    if not Path(found).resolve().is_relative_to(root.resolve()):
        raise BenchmarkError(f"`import server` in {root} loads {found}, not the copy")


# --- databases ------------------------------------------------------------------------------------------


def _postgres_problem(url: str) -> str | None:
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed"
    try:
        psycopg.connect(url, connect_timeout=3).close()
    except psycopg.Error as error:
        return f"PostgreSQL at {url} is not reachable ({str(error).strip().splitlines()[0]})"
    return None


@contextlib.contextmanager
def _database(kind: str, tree: str, workdir: Path, postgres_url: str) -> Iterator[str]:
    """A fresh database for one server run, removed afterwards."""
    if kind == "sqlite":
        path = workdir / f"load-{tree}.db"
        try:
            yield f"sqlite:///{path}"
        finally:
            for leftover in workdir.glob(f"load-{tree}.db*"):
                leftover.unlink()
        return
    import psycopg

    name = f"asyncmigrate_load_{os.getpid()}_{tree}_{uuid.uuid4().hex[:6]}"
    base, _, _ = postgres_url.rpartition("/")
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- the server -----------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate the server's whole process group; kill it if it does not go."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextlib.contextmanager
def _server(root: Path, database_url: str, log: Path) -> Iterator[str]:
    """``uvicorn server.main:app`` in ``root`` on ``database_url``; yields its base URL once it answers."""
    env = {**os.environ, "DATABASE_URL": database_url}
    port = _free_port()
    command = [
        sys.executable, "-m", "uvicorn", "server.main:app", "--host", "127.0.0.1", "--port", str(port),
        "--workers", "1", "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=root, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while True:
            if process.poll() is not None:
                raise BenchmarkError(f"the server in {root} exited ({process.returncode}):\n{log.read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(base + PING, timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise BenchmarkError(f"the server in {root} did not answer within {READY_TIMEOUT_SECONDS} s")
            time.sleep(0.2)
        yield base
    finally:
        _stop(process)


@dataclass
class World:
    """What the seeding created, for the workers to ask about."""

    player_ids: list[str]
    names: list[str]
    rooms: list[str]
    renamed_ids: list[str]


def _spawn_npcs(root: Path, database_url: str) -> str:
    """The start-up NPC population, through the server's own CLI (which creates the schema and rooms)."""
    spawned = subprocess.run(
        [sys.executable, "-m", "server.cli", "spawn-npcs"],
        # No async pool for the CLI: a command-line run may start more than one event loop.
        cwd=root, env={**{k: v for k, v in os.environ.items() if k != "SERVER_ASYNC_POOL_SIZE"},
                       "DATABASE_URL": database_url},
        capture_output=True, text=True,
    )  # fmt: skip
    if spawned.returncode != 0:
        raise BenchmarkError(f"`python -m server.cli spawn-npcs` failed in {root}:\n{spawned.stderr[-2000:]}")
    return spawned.stdout.strip().splitlines()[-1]


def _seed(base: str, db_workers: int) -> World:
    """Players and one chest per room, through the server's API."""
    with httpx.Client(base_url=base, timeout=REQUEST_TIMEOUT_SECONDS) as client:
        rooms = [room["room_id"] for room in client.get("/api/rooms").raise_for_status().json()]
        player_ids: list[str] = []
        names: list[str] = []
        # One player per database worker to rename, so renames never collide; the rest are looked up.
        for number in range(SEED_PLAYERS + db_workers):
            created = client.post("/api/players", json={"name": f"Seeker{number:03d}"}).raise_for_status().json()
            player_ids.append(created["player_id"])
            names.append(created["name"])
        for number, room_id in enumerate(rooms):
            client.post(
                "/api/containers",
                json={"source_type": "environment", "room_id": room_id, "capacity_slots": 20,
                      "items": [{"item_instance_id": f"seed{number}", "prototype_id": "lantern"}]},
            ).raise_for_status()  # fmt: skip
    return World(
        player_ids=player_ids[:SEED_PLAYERS],
        names=names[:SEED_PLAYERS],
        rooms=rooms,
        renamed_ids=player_ids[SEED_PLAYERS:],
    )


# --- the load -------------------------------------------------------------------------------------------


@dataclass
class Tally:
    """What happened during the measured window."""

    window_seconds: float
    db_requests: int = 0
    ping_requests: int = 0
    ping_latencies_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)


Request = tuple[str, str, str, dict[str, Any] | None]  # endpoint, method, path, JSON body


def _db_requests(world: World, worker: int, rng: random.Random) -> Iterator[Request]:
    """The endpoints a database worker walks through, forever."""
    renamed = world.renamed_ids[worker]
    renames = 0
    while True:
        player = rng.randrange(len(world.player_ids))
        room = rng.choice(world.rooms)
        yield "GET /api/players/{id}", "GET", f"/api/players/{world.player_ids[player]}", None
        yield "GET /api/players/by-name/{name}", "GET", f"/api/players/by-name/{world.names[player]}", None
        yield "GET /api/rooms/{id}/players", "GET", f"/api/rooms/{room}/players", None
        yield "GET /api/players?room_id=", "GET", f"/api/players?room_id={room}", None
        yield "GET /api/containers?room_id=", "GET", f"/api/containers?room_id={room}", None
        yield "GET /api/monitoring/stats", "GET", "/api/monitoring/stats", None
        renames += 1
        yield "PATCH /api/players/{id}/name", "PATCH", f"/api/players/{renamed}/name", {"name": f"W{worker}r{renames}"}


async def _run_load(
    base: str, world: World, *, db_workers: int, ping_workers: int, ping_interval: float,
    warmup: float, duration: float,
) -> Tally:  # fmt: skip
    tally = Tally(window_seconds=duration)
    loop = asyncio.get_running_loop()
    start = loop.time()
    window_start = start + warmup
    window_end = window_start + duration

    def record(started: float, failure: str | None, *, ping: bool, latency: float) -> None:
        # A request counts when it started inside the window; it is always waited for, so a slow answer
        # is measured, not cut off.
        if not window_start <= started < window_end:
            return
        if failure is not None:
            tally.errors[failure] += 1
        if ping:
            tally.ping_requests += 1
            if failure is None:
                tally.ping_latencies_ms.append(latency * 1000)
        else:
            tally.db_requests += 1

    async def send(client: httpx.AsyncClient, request: Request) -> str | None:
        """None on a 2xx answer, else what went wrong (grouped by endpoint)."""
        endpoint, method, path, body = request
        try:
            response = await client.request(method, path, json=body)
        except httpx.HTTPError as error:
            return f"{endpoint}: {type(error).__name__} {str(error)[:120]}"
        if response.is_success:
            return None
        return f"{endpoint}: HTTP {response.status_code} {response.text[:120]}"

    async def db_worker(client: httpx.AsyncClient, worker: int) -> None:
        requests = _db_requests(world, worker, random.Random(worker))
        while loop.time() < window_end:
            request = next(requests)
            started = loop.time()
            failure = await send(client, request)
            record(started, failure, ping=False, latency=loop.time() - started)

    async def ping_worker(client: httpx.AsyncClient, worker: int) -> None:
        # Staggered, paced probes: a monitor asking now and then, not a second load.
        next_at = start + worker * ping_interval / max(ping_workers, 1)
        while next_at < window_end:
            await asyncio.sleep(max(0.0, next_at - loop.time()))
            started = loop.time()
            failure = await send(client, (f"GET {PING}", "GET", PING, None))
            record(started, failure, ping=True, latency=loop.time() - started)
            next_at = max(next_at + ping_interval, loop.time())

    # A connection per worker: no request waits for the client's pool.
    connections = db_workers + ping_workers
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT_SECONDS, limits=limits) as client:
        await asyncio.gather(
            *(db_worker(client, worker) for worker in range(db_workers)),
            *(ping_worker(client, worker) for worker in range(ping_workers)),
        )
    return tally


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[round(fraction * 1000) - 1]


# --- the run --------------------------------------------------------------------------------------------


@dataclass
class Row:
    database: str
    tree: str
    total_rps: float
    db_rps: float
    ping_p50_ms: float
    ping_p99_ms: float
    ping_max_ms: float
    ping_requests: int
    errors: int
    error_kinds: dict[str, int]
    load_before: float
    load_after: float
    single_request_ms: dict[str, float]


def _measure(kind: str, tree: str, root: Path, workdir: Path, args: argparse.Namespace) -> Row:
    db_workers = args.concurrency - args.ping_workers
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(_database(kind, tree, workdir, args.postgres_url))
        npcs = _spawn_npcs(root, url)
        base = stack.enter_context(_server(root, url, workdir / f"server-{kind}-{tree}.log"))
        world = _seed(base, db_workers)
        print(f"  {kind} / {tree}: NPCs: {npcs}; {len(world.player_ids) + len(world.renamed_ids)} players, "
              f"{len(world.rooms)} chests created", flush=True)  # fmt: skip
        load_before = os.getloadavg()[0]
        tally = asyncio.run(
            _run_load(
                base, world, db_workers=db_workers, ping_workers=args.ping_workers,
                ping_interval=args.ping_interval, warmup=args.warmup, duration=args.duration,
            )
        )  # fmt: skip
        load_after = os.getloadavg()[0]
        single = _one_at_a_time(base, world, args.single_rounds) if args.single_rounds else {}
    latencies = tally.ping_latencies_ms
    return Row(
        database=kind,
        tree=tree,
        total_rps=(tally.db_requests + tally.ping_requests) / tally.window_seconds,
        db_rps=tally.db_requests / tally.window_seconds,
        ping_p50_ms=_percentile(latencies, 0.50),
        ping_p99_ms=_percentile(latencies, 0.99),
        ping_max_ms=max(latencies, default=float("nan")),
        ping_requests=tally.ping_requests,
        errors=sum(tally.errors.values()),
        error_kinds=dict(tally.errors.most_common()),
        load_before=load_before,
        load_after=load_after,
        single_request_ms=single,
    )


def _one_at_a_time(base: str, world: World, rounds: int) -> dict[str, float]:
    """Median latency of each endpoint, one request at a time after the load: what a request costs
    when nothing else competes for the event loop, so a difference is the tree's own."""
    samples: dict[str, list[float]] = {}
    requests = _db_requests(world, 0, random.Random(0))
    with httpx.Client(base_url=base, timeout=REQUEST_TIMEOUT_SECONDS) as client:
        for _ in range(rounds):
            for endpoint, method, path, body in [*itertools.islice(requests, 7), (f"GET {PING}", "GET", PING, None)]:
                started = time.perf_counter()
                response = client.request(method, path, json=body)
                elapsed = time.perf_counter() - started
                if not response.is_success:
                    raise BenchmarkError(f"{endpoint} answered {response.status_code} with nothing else running")
                samples.setdefault(endpoint, []).append(elapsed * 1000)
    return {endpoint: statistics.median(values) for endpoint, values in samples.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=15.0, help="measured seconds per server (default 15)")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds first (default 3)")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent workers in all (default 32)")
    parser.add_argument("--ping-workers", type=int, default=4, help="of them, probing /api/ping (default 4)")
    parser.add_argument("--ping-interval", type=float, default=0.05,
                        help="seconds between one probe worker's requests (default 0.05)")  # fmt: skip
    parser.add_argument("--databases", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL,
                        help="PostgreSQL to connect to; each server gets a database of its own there")  # fmt: skip
    parser.add_argument("--single-rounds", type=int, default=20,
                        help="then each endpoint this many times, one at a time (0: skip; default 20)")  # fmt: skip
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write the figures as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, copies)")
    parser.add_argument(
        "--async-pool",
        type=int,
        default=5,
        metavar="N",
        help="SERVER_ASYNC_POOL_SIZE for both servers: the async engine pools N connections on uvicorn's one "
        "event loop, as the sync engine does (default 5, its pool size); 0 leaves NullPool, a connection per call",
    )
    args = parser.parse_args()

    databases = [name.strip() for name in args.databases.split(",") if name.strip()]
    unknown = sorted(set(databases) - {"sqlite", "postgresql"})
    if unknown or not databases:
        parser.error(f"--databases: unknown {', '.join(unknown) or '(none given)'}; use sqlite and/or postgresql")
    if not 0 < args.ping_workers < args.concurrency:
        parser.error("--ping-workers must be at least 1 and fewer than --concurrency")
    if args.duration <= 0 or args.warmup < 0 or args.ping_interval <= 0:
        parser.error("--duration and --ping-interval must be positive, --warmup not negative")
    if args.async_pool < 0:
        parser.error("--async-pool must be 0 (no pool) or a positive size")
    # Both trees' servers inherit it; the before tree's repositories are idle, so only the after tree uses it.
    os.environ.pop("SERVER_ASYNC_POOL_SIZE", None)
    if args.async_pool:
        os.environ["SERVER_ASYNC_POOL_SIZE"] = str(args.async_pool)

    workdir = Path(tempfile.mkdtemp(prefix="asyncmigrate-load-"))
    try:
        return _run(args, databases, workdir)
    except BenchmarkError as error:
        print(f"\nFAILED: {error}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _run(args: argparse.Namespace, databases: list[str], workdir: Path) -> int:
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; "
        f"{args.concurrency} workers ({args.concurrency - args.ping_workers} on database endpoints, "
        f"{args.ping_workers} probing {PING} every {args.ping_interval * 1000:.0f} ms each); "
        f"{args.warmup:g} s warm-up, {args.duration:g} s measured per server; "
        f"async pool {args.async_pool or 'none (NullPool)'}"
    )
    roots = {tree: _copy_tree(workdir / tree / "repository") for tree in TREES}
    migration = _migrate(roots["after"])
    print(
        f"after: `asyncmigrate apply --all --no-test` exit {migration['exit_code']} in {migration['seconds']} s: "
        f"{migration['migrated']}/{migration['planned']} planned files migrated, blocked: "
        f"{', '.join(migration['blocked']) or 'none'}"
    )
    for root in roots.values():
        _check_imports_from(root)

    if "postgresql" in databases and (problem := _postgres_problem(args.postgres_url)) is not None:
        print(f"skipping PostgreSQL: {problem}")
        databases = [name for name in databases if name != "postgresql"]

    rows: list[Row] = []
    for kind in databases:
        for tree in TREES:
            rows.append(_measure(kind, tree, roots[tree], workdir, args))

    print()
    print(
        f"{'database':<11} {'tree':<7} {'req/s':>7} {'DB req/s':>9} {'ping p50 ms':>12} {'ping p99 ms':>12} "
        f"{'ping max ms':>12} {'pings':>6} {'errors':>7} {'load':>10}"
    )
    for row in rows:
        print(
            f"{row.database:<11} {row.tree:<7} {row.total_rps:>7.1f} {row.db_rps:>9.1f} {row.ping_p50_ms:>12.1f} "
            f"{row.ping_p99_ms:>12.1f} {row.ping_max_ms:>12.1f} {row.ping_requests:>6} {row.errors:>7} "
            f"{row.load_before:>4.1f}-{row.load_after:<4.1f}"
        )
    if args.single_rounds:
        print(f"\none request at a time, median ms of {args.single_rounds} (after the load):")
        print(f"{'endpoint':<34}" + "".join(f" {row.database[:6] + '/' + row.tree:>17}" for row in rows))
        for endpoint in rows[0].single_request_ms:
            print(f"{endpoint:<34}" + "".join(f" {row.single_request_ms[endpoint]:>17.1f}" for row in rows))
    for row in rows:
        for kind, count in row.error_kinds.items():
            print(f"  {row.database}/{row.tree}: {count} x {kind}")
    for kind in databases:
        by_tree = {row.tree: row for row in rows if row.database == kind}
        if by_tree["after"].errors and not by_tree["before"].errors:
            print(f"  {kind}: the migrated server answered with errors the unmigrated one did not")

    if args.json is not None:
        args.json.write_text(
            json.dumps(
                {
                    "python": sys.version.split()[0],
                    "cores": os.cpu_count(),
                    "concurrency": args.concurrency,
                    "ping_workers": args.ping_workers,
                    "ping_interval_seconds": args.ping_interval,
                    "warmup_seconds": args.warmup,
                    "duration_seconds": args.duration,
                    "migration": migration,
                    "results": [asdict(row) for row in rows],
                },
                indent=2,
            )
            + "\n"
        )
    return 1 if any(row.errors for row in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
