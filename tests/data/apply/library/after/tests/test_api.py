from fastapi import FastAPI
from fastapi.testclient import TestClient

from library.api import router
from library.storage import Book, open_store

app = FastAPI()
app.include_router(router)


def test_book_and_shelf() -> None:
    open_store().save_book(Book("9", "Emma", shelf="classics"))
    client = TestClient(app)
    assert client.get("/books/9").json() == {"isbn": "9", "title": "Emma"}
    assert client.get("/books/9/shelf").json() == {"shelf": "classics"}
    assert client.get("/books/404").status_code == 404
    assert client.post("/maintenance").json()["books"] >= 1
