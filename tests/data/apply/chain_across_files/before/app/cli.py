import sys

from app.api import handle
from app.service import Service


def main() -> None:
    sys.stdout.write(f"{handle(Service(), sys.argv[1:])}\n")


if __name__ == "__main__":
    main()
