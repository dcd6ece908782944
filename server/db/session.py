"""Engines and sessions, made per server instance (never at import time)."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from server.db import migrate
from server.db.engine import SQLITE_BUSY_TIMEOUT_MS, make_engine

__all__ = ["SQLITE_BUSY_TIMEOUT_MS", "create_schema", "make_engine", "make_sessionmaker"]


def create_schema(engine: Engine) -> None:
    """Migrate the database to the newest schema (creating it when empty); see `server.db.migrate.upgrade`."""
    migrate.upgrade(engine)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """A session factory whose rows stay readable after commit (routes return them)."""
    return sessionmaker(engine, expire_on_commit=False)
