from app.plain import lookup


class Cache:
    def fetch(self, key: str) -> str:
        return key


def test_lookup() -> None:
    assert lookup(Cache(), "a") == "a"
