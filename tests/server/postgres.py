"""PostgreSQL for the server tests: a fresh database per test when a server answers, a skip when none does.

The server is `HOMESAFE_TEST_POSTGRES_URL` (default: the local one of the development and CI machines).
With `HOMESAFE_REQUIRE_POSTGRES=1` (set by CI) a missing server fails the tests instead of skipping them.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Final

import pytest
from sqlalchemy import URL, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

URL_ENV: Final = "HOMESAFE_TEST_POSTGRES_URL"
REQUIRE_ENV: Final = "HOMESAFE_REQUIRE_POSTGRES"
DEFAULT_URL: Final = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CONNECT_TIMEOUT_S: Final = 3
DATABASE_PREFIX: Final = "hs_test_"


def server_url() -> URL:
    """The PostgreSQL server the tests may use, as a URL to an existing database on it."""
    return make_url(os.environ.get(URL_ENV) or DEFAULT_URL)


def _admin_engine() -> Engine:
    # CREATE and DROP DATABASE cannot run inside a transaction.
    timeout = {"connect_timeout": CONNECT_TIMEOUT_S}
    return create_engine(server_url(), isolation_level="AUTOCOMMIT", poolclass=NullPool, connect_args=timeout)


@cache
def unavailable_reason() -> str | None:
    """Why PostgreSQL cannot be used (asked once per run), or `None` when it answers."""
    shown = server_url().render_as_string(hide_password=True)
    engine = _admin_engine()
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError) as exc:
        cause = str(getattr(exc, "orig", None) or exc).strip().splitlines() or [type(exc).__name__]
        return f"no PostgreSQL at {shown} ({cause[0].rpartition(': ')[2].strip()}); {URL_ENV} names another"
    finally:
        engine.dispose()
    return None


def skip_marks() -> list[pytest.MarkDecorator]:
    """A skip mark for a test of PostgreSQL when it is absent (pytest folds these: one line per file), else none.

    Under HOMESAFE_REQUIRE_POSTGRES=1 none either: the test runs, and `fresh_database` fails it.
    """
    reason = unavailable_reason()
    if reason is None or os.environ.get(REQUIRE_ENV) == "1":
        return []
    return [pytest.mark.skip(reason=reason)]


def require() -> None:
    """Skip the calling test when PostgreSQL is absent; fail it instead when the run requires PostgreSQL."""
    reason = unavailable_reason()
    if reason is None:
        return
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason}; {REQUIRE_ENV}=1 makes that a failure", pytrace=False)
    pytest.skip(reason)


@contextmanager
def fresh_database() -> Iterator[str]:
    """A new empty database on the test server, dropped afterwards whoever is still connected; its URL."""
    require()
    name = f"{DATABASE_PREFIX}{secrets.token_hex(6)}"
    engine = _admin_engine()
    try:
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield server_url().set(database=name).render_as_string(hide_password=False)
        finally:
            with engine.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()
