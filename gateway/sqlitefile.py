"""How the gateway opens its SQLite files (outbox, home state): WAL, shared across its threads."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def open_wal(path: str, schema: str, *, synchronous: str = "NORMAL") -> sqlite3.Connection:
    """A connection in autocommit and WAL mode with `schema` applied, creating the folder if needed.

    The caller serialises use across threads (`check_same_thread` is off because the MQTT thread
    writes and another thread reads).
    """
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={synchronous}")
    db.executescript(schema)
    return db
