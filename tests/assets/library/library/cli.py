"""``python -m library.cli ISBN...``: print each book's description."""

from __future__ import annotations

import sys

from library.catalog import describe


def main(argv: list[str]) -> int:
    for isbn in argv:
        sys.stdout.write(describe(isbn) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
