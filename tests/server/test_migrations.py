"""Schema migrations (server/db/migrate.py, server/db/migrations/) on SQLite and on PostgreSQL.

Tests marked `postgres` run twice through the `db_url` fixture: on a SQLite file and on a fresh
PostgreSQL database (skipped when none answers; see tests/server/postgres.py).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Connection, Engine, MetaData, String, inspect, select, text
from sqlalchemy.exc import IntegrityError

from server.db import migrate
from server.db.session import create_schema, make_engine, make_sessionmaker
from server.db.tables import Base, HomeRow

pytestmark = pytest.mark.postgres

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_migrations_match_models(engine: Engine) -> None:
    """Guards against a model change without a migration: head must build exactly what tables.py declares.

    On failure, add a revision: `python -m server.db.migrate revision -m "what changed"`.
    """
    create_schema(engine)

    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], "models and migrations differ; run `python -m server.db.migrate revision -m ...`"
    assert migrate.current(engine) == migrate.head()
    assert _tables(engine) == set(Base.metadata.tables) | {migrate.VERSION_TABLE}


def test_upgrade_at_head_changes_nothing_and_keeps_the_data(engine: Engine) -> None:
    """Guards every restart: migrating an up-to-date database is a no-op that loses nothing."""
    create_schema(engine)
    with make_sessionmaker(engine)() as session:
        session.add(HomeRow(id="h0001", community="east"))
        session.commit()

    create_schema(engine)

    assert migrate.current(engine) == migrate.head()
    with make_sessionmaker(engine)() as session:
        assert session.scalars(select(HomeRow.id)).all() == ["h0001"]


def test_database_made_before_migrations_is_adopted_with_its_data(engine: Engine) -> None:
    """Guards the databases of earlier builds (`create_all`, no version table): stamped, upgraded, kept."""
    Base.metadata.create_all(engine)
    with make_sessionmaker(engine)() as session:
        session.add(HomeRow(id="h0001", community="east"))
        session.commit()

    create_schema(engine)

    assert migrate.current(engine) == migrate.head()
    with make_sessionmaker(engine)() as session:
        assert session.scalars(select(HomeRow.id)).all() == ["h0001"]


def test_database_made_before_migrations_without_a_column_is_refused_saying_what_to_do(engine: Engine) -> None:
    """Guards against stamping a database that only looks current: the server would fail on the first query."""
    Base.metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE alerts DROP COLUMN note"))

    with pytest.raises(migrate.MigrationError, match=r"lacks alerts\.note") as caught:
        create_schema(engine)

    assert "python -m server.db.migrate stamp" in str(caught.value)
    assert "new database" in str(caught.value)
    assert migrate.current(engine) is None
    assert migrate.VERSION_TABLE not in _tables(engine)


def test_partial_unique_index_allows_one_unresolved_alert_per_home_and_type(engine: Engine) -> None:
    """Guards the migration's partial index (sqlite_where / postgresql_where): a full index would refuse history."""
    create_schema(engine)
    insert = text(
        "INSERT INTO alerts (id, home, type, severity, status, ref, opened_at, raised_at, received_at, evidence, count)"
        " VALUES (:id, 'h1', 'SOS', 'critical', :status, 'R', :at, :at, :at, '{}', 1)"
    )
    at = "2026-11-24 03:00:00+00:00"
    with engine.begin() as connection:
        connection.execute(insert, {"id": "a1", "status": "resolved", "at": at})
        connection.execute(insert, {"id": "a2", "status": "resolved", "at": at})
        connection.execute(insert, {"id": "a3", "status": "open", "at": at})
    with pytest.raises(IntegrityError, match=r"(?i)unique"), engine.begin() as connection:
        connection.execute(insert, {"id": "a4", "status": "notified", "at": at})


def _hold_migration_lock(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": migrate.PG_LOCK_KEY})
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def test_a_second_server_starting_waits_for_the_first_ones_migration(engine: Engine) -> None:
    """Guards two processes starting on one database: the lock makes the second wait, then find nothing to do."""
    done = threading.Event()
    failures: list[BaseException] = []

    def start() -> None:
        try:
            create_schema(engine)
        except BaseException as exc:
            failures.append(exc)
        finally:
            done.set()

    holder = engine.connect()
    try:
        _hold_migration_lock(holder)  # as a first server would while migrating
        thread = threading.Thread(target=start)
        thread.start()
        assert not done.wait(0.5), f"migrated while another held the lock: {failures}"
        holder.rollback()
        if holder.dialect.name == "postgresql":
            holder.execute(text("SELECT pg_advisory_unlock_all()"))
            holder.commit()
    finally:
        holder.close()

    assert done.wait(30), "still waiting after the lock was released"
    thread.join()
    assert failures == []
    assert migrate.current(engine) == migrate.head()


def test_two_processes_migrating_one_database_at_once_both_succeed(db_url: str, engine: Engine) -> None:
    """Guards two `homesafe server` processes started together (no in-process lock helps there)."""
    upgrade = [sys.executable, "-m", "server.db.migrate", "upgrade", "--database-url", db_url]
    processes = [
        subprocess.Popen(upgrade, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=60) for process in processes]

    assert [process.returncode for process in processes] == [0, 0], "\n".join(err[-1500:] for _out, err in outputs)
    assert [out.strip() for out, _err in outputs] == [f"{migrate.head()} (head {migrate.head()})"] * 2
    assert migrate.current(engine) == migrate.head()
    with engine.connect() as connection:
        assert connection.scalar(text(f"SELECT count(*) FROM {migrate.VERSION_TABLE}")) == 1


def test_downgrade_to_base_removes_every_table(engine: Engine) -> None:
    """Guards the generated downgrade (drop order against foreign keys), so a bad revision can be undone."""
    create_schema(engine)

    with engine.begin() as connection:
        command.downgrade(migrate.alembic_config(connection=connection), "base")

    assert _tables(engine) <= {migrate.VERSION_TABLE}


def test_revision_helper_writes_a_runnable_lint_clean_migration(tmp_path: Path) -> None:
    """Guards the developers' path: a new column becomes a batch migration that runs on SQLite and passes ruff."""
    location = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS_DIR, location, ignore=shutil.ignore_patterns("__pycache__"))
    metadata = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        table.to_metadata(metadata)
    metadata.tables["homes"].append_column(Column("gate_code", String(16)))

    path = migrate.autogenerate_revision("add homes.gate_code", script_location=location, target_metadata=metadata)

    source = path.read_text(encoding="utf-8")
    assert path.name.startswith(f"{len(list((location / 'versions').glob('0*.py'))):04d}_add_homes_gate_code")
    assert f'down_revision: str | Sequence[str] | None = "{migrate.head()}"' in source
    assert 'batch_alter_table("homes"' in source
    assert 'sa.Column("gate_code", sa.String(length=16), nullable=True)' in source
    ruff = [sys.executable, "-m", "ruff", "check", str(path)]
    lint = subprocess.run(ruff, check=False, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout
    engine = make_engine(f"sqlite:///{tmp_path / 'dev.db'}")
    try:
        with engine.begin() as connection:
            command.upgrade(migrate.alembic_config(connection=connection, script_location=location), "head")
        assert "gate_code" in {column["name"] for column in inspect(engine).get_columns("homes")}
    finally:
        engine.dispose()

