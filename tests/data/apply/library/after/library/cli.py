"""``python -m library.cli ISBN...``: print each book's description."""

from __future__ import annotations

import sys

from library.catalog import describe
import asyncio


async def main(argv: list[str]) -> int:
    for isbn in argv:
        sys.stdout.write(await describe(isbn) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(sys.argv[1:])))
