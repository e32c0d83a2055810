import sys

from app.api import handle
from app.service import Service
import asyncio


async def main() -> None:
    sys.stdout.write(f"{await handle(Service(), sys.argv[1:])}\n")


if __name__ == "__main__":
    asyncio.run(main())
