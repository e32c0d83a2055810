import threading

from app.jobs import reserved, values


class Runner:
    def __init__(self) -> None:
        self.lock = threading.Lock()

    def total(self, keys: list[str]) -> int:
        with self.lock:
            return sum([value for value in values(keys)])

    def first(self, key: str) -> int:
        with self.lock, reserved(key) as value:
            return value

    def drain(self, keys: list[str]) -> list[int]:
        seen = []
        for value in values(keys):
            seen.append(value)
        return seen


def run(keys: list[str]) -> int:
    return Runner().total(keys)


if __name__ == "__main__":
    print(run(["a"]))
