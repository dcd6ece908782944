"""Engines: SQLite tuned for a server that reads while it writes, or PostgreSQL; nothing at import time."""

from __future__ import annotations

import sqlite3
import time
from typing import Any, Final

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

SQLITE_BUSY_TIMEOUT_MS: Final = 5000
_WAL_RETRY_S: Final = 0.02
# Statement errors (and SQL logging) leave out bound values: they are names, phone numbers, conditions,
# and an error's text ends up in logs and tracebacks.
HIDE_PARAMETERS: Final = True


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the API read while the dispatcher writes; busy_timeout makes writers queue instead of
    # failing with "database is locked"; SQLite leaves foreign keys off unless asked, per connection.
    cursor = dbapi_connection.cursor()
    try:
        _journal_mode_wal(cursor)
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _journal_mode_wal(cursor: sqlite3.Cursor) -> None:
    # Two processes opening a new file at once (two servers starting) race to make it WAL; the loser gets
    # "database is locked" at once, without the busy wait (SQLite's deadlock avoidance), so it tries again.
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(_WAL_RETRY_S)


def make_engine(url: str) -> Engine:
    """An engine for `url`: SQLite (a file, WAL, busy timeout, foreign keys) or PostgreSQL."""
    sa_url = make_url(url)
    if sa_url.get_backend_name() != "sqlite":
        return create_engine(sa_url, pool_pre_ping=True, hide_parameters=HIDE_PARAMETERS)
    if sa_url.database in (None, "", ":memory:") or sa_url.query.get("mode") == "memory":
        # Each pooled connection would see its own empty database: the API thread and the dispatcher
        # thread would not share alerts.
        raise ValueError(
            f"in-memory SQLite ({url!r}) is not shared between threads; use a file, e.g. sqlite:///homesafe.db"
        )
    engine = create_engine(
        sa_url,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        hide_parameters=HIDE_PARAMETERS,
    )
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine
