"""The tables behind both sides of the store (SQLite, in memory unless told otherwise)."""

from __future__ import annotations

import sqlite3

SCHEMA = """
CREATE TABLE wagons (wagon_id INTEGER PRIMARY KEY, capacity INTEGER NOT NULL, load INTEGER NOT NULL DEFAULT 0,
                     route_id TEXT);
CREATE TABLE traders (name TEXT PRIMARY KEY, purse INTEGER NOT NULL);
CREATE TABLE routes (origin TEXT NOT NULL, destination TEXT NOT NULL, leagues INTEGER NOT NULL,
                     PRIMARY KEY (origin, destination));
CREATE TABLE manifests (entry_id INTEGER PRIMARY KEY AUTOINCREMENT, wagon_id INTEGER NOT NULL, goods TEXT NOT NULL,
                        weight INTEGER NOT NULL);
"""


def connect(path: str = ":memory:") -> sqlite3.Connection:
    # The yard hops to worker threads around store calls: the connection is shared across them.
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    db.executescript(SCHEMA)
    return db
