"""Engines and sessions, made per server instance (never at import time)."""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from server.db.tables import Base

SQLITE_BUSY_TIMEOUT_MS: Final = 5000


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the API read while the dispatcher writes; busy_timeout makes writers queue instead of
    # failing with "database is locked"; SQLite leaves foreign keys off unless asked, per connection.
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for `url`: SQLite (a file, WAL, busy timeout, foreign keys) or PostgreSQL."""
    sa_url = make_url(url)
    if sa_url.get_backend_name() != "sqlite":
        return create_engine(sa_url, pool_pre_ping=True)
    if sa_url.database in (None, "", ":memory:") or sa_url.query.get("mode") == "memory":
        # Each pooled connection would see its own empty database: the API thread and the dispatcher
        # thread would not share alerts.
        raise ValueError(
            f"in-memory SQLite ({url!r}) is not shared between threads; use a file, e.g. sqlite:///homesafe.db"
        )
    engine = create_engine(
        sa_url,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
    )
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def create_schema(engine: Engine) -> None:
    """Create the tables that do not exist yet."""
    Base.metadata.create_all(engine)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """A session factory whose rows stay readable after commit (routes return them)."""
    return sessionmaker(engine, expire_on_commit=False)
