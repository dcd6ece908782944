"""Storage (server/db/): SQLite set-up and timestamps that stay aware UTC."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import StatementError

from gateway.protocol import Alert
from server.crud.alerts import ingest_alert
from server.db.session import create_schema, make_engine, make_sessionmaker
from server.db.tables import AlertRow, HomeRow, NotificationRow


def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(db_url: str) -> None:
    """Guards concurrent API and dispatcher writes ("database is locked") and unchecked foreign keys."""
    engine = make_engine(db_url)
    with engine.connect() as connection:
        assert connection.scalar(text("PRAGMA journal_mode")) == "wal"
        assert connection.scalar(text("PRAGMA busy_timeout")) == 5000
        assert connection.scalar(text("PRAGMA foreign_keys")) == 1
    engine.dispose()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "sqlite:///file:x?mode=memory&uri=true"])
def test_in_memory_sqlite_is_refused(url: str) -> None:
    """Guards against the API and the dispatcher each seeing their own empty in-memory database."""
    with pytest.raises(ValueError, match="use a file"):
        make_engine(url)


def test_timestamps_come_back_aware_utc_whatever_zone_went_in(db_url: str, new_alert: Callable[..., Alert]) -> None:
    """Guards against naive datetimes from SQLite, and against local times stored as if they were UTC."""
    engine = make_engine(db_url)
    create_schema(engine)
    sessions = make_sessionmaker(engine)
    beijing = datetime(2026, 11, 24, 11, 0, 12, tzinfo=timezone(timedelta(hours=8)))
    with sessions() as session:
        ingest_alert(session=session, alert=new_alert(id="a1"), operator_phone="op", now=beijing)

    with sessions() as session:
        received_at = session.scalars(select(AlertRow.received_at)).one()
        created_at = session.scalars(select(NotificationRow.created_at)).one()
    assert received_at == created_at == datetime(2026, 11, 24, 3, 0, 12, tzinfo=UTC)
    assert received_at.tzinfo is UTC
    engine.dispose()


def test_naive_timestamps_are_refused(db_url: str) -> None:
    """Guards against a naive datetime slipping in and being read back as UTC when it was local time."""
    engine = make_engine(db_url)
    create_schema(engine)
    with make_sessionmaker(engine)() as session:
        session.add(HomeRow(id="h1", community="east", address=None))
        session.flush()
        session.add(NotificationRow(alert_id="a1", to="x", body="b", created_at=datetime(2026, 1, 1)))  # noqa: DTZ001
        with pytest.raises(StatementError, match="naive datetime"):
            session.commit()
    engine.dispose()
