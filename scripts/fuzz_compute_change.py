"""Fuzz the whole change with template programs and a runtime oracle, for a given number of minutes.

    python scripts/fuzz_compute_change.py --minutes 30 [--seed 0] [--keep DIR]

Each program (see ``tests/fuzzing.py``) is run before and after ``compute_change``; the counts printed at
the end say how many were migrated, blocked or refused and how many met a fault: a crash, output that does
not compile, a runtime difference, an un-awaited coroutine, or a second change that is not empty. Every
faulty program is printed in full (and kept under ``--keep``). Exit 1 when any fault was met.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fuzzing import FAULTS, KINDS, check_program, describe, generate, workdir_for  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=1.0, help="how long to run")
    parser.add_argument("--seed", type=int, default=0, help="the first seed (programs use seed, seed+1, ...)")
    parser.add_argument("--keep", type=Path, default=None, help="write each faulty program's report here")
    options = parser.parse_args()
    if options.minutes <= 0:
        parser.error("--minutes must be positive")
    deadline = time.monotonic() + options.minutes * 60
    counts: Counter[str] = Counter()
    by_template: Counter[str] = Counter()
    seed = options.seed
    with tempfile.TemporaryDirectory(prefix="asyncmigrate-fuzz-") as base:
        while time.monotonic() < deadline:
            program = generate(seed)
            with workdir_for(Path(base), seed) as workdir:
                outcome = check_program(program, workdir)
            counts[outcome.kind] += 1
            by_template.update(f"{t}:{outcome.kind}" for t in set(program.templates))
            if outcome.kind in FAULTS:
                report = describe(program, outcome)
                print(report, flush=True)
                if options.keep is not None:
                    options.keep.mkdir(parents=True, exist_ok=True)
                    (options.keep / f"seed-{seed}.txt").write_text(report)
            seed += 1
    tried = sum(counts.values())
    print(f"programs tried: {tried} (seeds {options.seed}..{seed - 1}) in {options.minutes:g} min")
    for kind in KINDS:
        print(f"  {kind:<20} {counts[kind]}")
    print("per template (programs using it):")
    for template in sorted({key.split(":")[0] for key in by_template}):
        row = ", ".join(f"{k} {by_template[f'{template}:{k}']}" for k in KINDS if by_template[f"{template}:{k}"])
        print(f"  {template:<22} {row}")
    return 1 if any(counts[kind] for kind in FAULTS) else 0


if __name__ == "__main__":
    raise SystemExit(main())
