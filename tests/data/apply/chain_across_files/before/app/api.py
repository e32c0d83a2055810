from app.service import Service


def handle(service: Service, keys: list[str]) -> dict[str, int]:
    return {"total": service.total(keys)}


def title(service: Service, key: str) -> str:
    return service.title(key)  # the label cache is sync: this stays sync
