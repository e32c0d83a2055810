class Simulator:
    """Dry runs: records the moves it is asked for."""

    def __init__(self) -> None:
        self.moves: list[tuple[str, str, int]] = []

    def move(self, source: str, target: str, amount: int) -> None:
        self.moves.append((source, target, amount))


def perform(handler: object, args: tuple[str, str, int]) -> None:
    getattr(handler, "move")(*args)
