"""Schema migrations (Alembic), driven from code: a server brings its database to head as it starts.

No alembic.ini: the configuration is built here and the scripts ship inside the package, so an installed
server migrates itself. Developers use the command line:

    python -m server.db.migrate upgrade [--database-url URL]    # to head (what the server does at start)
    python -m server.db.migrate current [--database-url URL]    # the revision a database is at
    python -m server.db.migrate stamp REVISION [--database-url URL]
    python -m server.db.migrate revision -m "add visits.source_id"   # autogenerate from server.db.tables
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData, create_engine, inspect, text
from sqlalchemy.exc import OperationalError

from server.db.engine import make_engine

_LOGGER = logging.getLogger(__name__)

MIGRATIONS_DIR: Final = Path(__file__).with_name("migrations")
VERSION_TABLE: Final = "alembic_version"
# pg_advisory_xact_lock key of "the HomeSafe schema is being migrated": any fixed 64-bit number, unique to us.
PG_LOCK_KEY: Final = 0x486F6D6553616665  # "HomeSafe"
SQLITE_LOCK_TIMEOUT_S: Final = 120.0  # how long a second process waits for the first one's migration
_SQLITE_RETRY_S: Final = 0.1
# Alembic's `context` and `op` are module globals: one migration at a time per process, whatever the engine.
_PROCESS_LOCK = threading.Lock()


class MigrationError(RuntimeError):
    """The database cannot be brought to head without a person deciding how."""


def alembic_config(*, connection: Connection | None = None, script_location: Path = MIGRATIONS_DIR) -> Config:
    """An Alembic configuration for the shipped scripts (or `script_location`), running on `connection`."""
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("path_separator", "os")
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    config.set_main_option("truncate_slug_length", "48")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache
def _scripts(location: str) -> ScriptDirectory:
    # Parsing the revision files is the slow part of a no-op start; they do not change while we run.
    return ScriptDirectory.from_config(alembic_config(script_location=Path(location)))


def head() -> str:
    """The revision the shipped scripts end at; fails clearly when two branches were left unmerged."""
    revision = _scripts(str(MIGRATIONS_DIR)).get_current_head()
    if revision is None:
        raise MigrationError(f"no revision scripts in {MIGRATIONS_DIR / 'versions'}; the package is incomplete")
    return revision


def current(engine: Engine) -> str | None:
    """The revision `engine`'s database is at; `None` for an empty database or one made before migrations."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to `revision` (default the newest), under a lock so concurrent starts migrate once.

    A database made by `create_all` before migrations existed is adopted: stamped at the baseline when it
    has every baseline table and column, refused with `MigrationError` otherwise.
    """
    if revision == "head" and current(engine) == head():
        return  # the usual start: nothing to do, and no lock taken
    with _PROCESS_LOCK, _locked(engine) as connection:
        config = alembic_config(connection=connection)
        before = MigrationContext.configure(connection).get_current_revision()
        if before is None:
            _adopt_unversioned(connection, config)
        command.upgrade(config, revision)
        after = MigrationContext.configure(connection).get_current_revision()
        if after != before:
            _LOGGER.info("database %s migrated from %s to %s", _where(engine), before or "empty", after)


def stamp(engine: Engine, revision: str) -> None:
    """Record that the database is at `revision` without running anything (a person checked it by hand)."""
    with _PROCESS_LOCK, _locked(engine) as connection:
        command.stamp(alembic_config(connection=connection), revision)


def autogenerate_revision(
    message: str, *, script_location: Path = MIGRATIONS_DIR, target_metadata: MetaData | None = None
) -> Path:
    """Write a revision script for what the models (or `target_metadata`) have that head does not.

    It compares against a scratch SQLite database upgraded to head, so no developer database is touched;
    the file is then formatted with ruff when ruff is installed. Returns the new file's path.
    """
    location = Path(script_location)
    scripts = ScriptDirectory.from_config(alembic_config(script_location=location))
    rev_id = f"{len(list(scripts.walk_revisions())) + 1:04d}"
    with tempfile.TemporaryDirectory(prefix="homesafe-migrate-") as scratch:
        engine = create_engine(f"sqlite:///{Path(scratch) / 'scratch.db'}")
        try:
            with _PROCESS_LOCK, engine.begin() as connection:
                config = alembic_config(connection=connection, script_location=location)
                if target_metadata is not None:
                    config.attributes["target_metadata"] = target_metadata
                command.upgrade(config, "head")
                script = command.revision(config, message=message, autogenerate=True, rev_id=rev_id)
        finally:
            engine.dispose()
    if script is None or isinstance(script, list):
        raise MigrationError(f"alembic wrote no single revision for {message!r}")
    path = Path(script.path)
    _ruff(path)
    return path


@contextmanager
def _locked(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that holds the database's migration lock; commits on success."""
    if engine.dialect.name == "postgresql":
        # Transactional DDL: the whole migration commits or nothing does, and the lock ends with it.
        with engine.begin() as connection:
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})
            yield connection
        return
    if engine.dialect.name != "sqlite":
        with engine.begin() as connection:  # no lock we know of: one server should start first
            yield connection
        return
    with engine.connect() as connection:
        # Off outside a transaction, where SQLite honours it: a batch migration copies and drops tables, which
        # must not cascade deletes into their children. Checked before commit, restored after.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        try:
            _begin_immediate(connection)
            try:
                yield connection
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise MigrationError(f"migration left {len(broken)} rows with dangling foreign keys; rolled back")
            except BaseException:
                connection.rollback()
                raise
            connection.commit()
        finally:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()


def _begin_immediate(connection: Connection) -> None:
    """Take SQLite's write lock: another process migrating holds it until it commits, and we wait."""
    deadline = time.monotonic() + SQLITE_LOCK_TIMEOUT_S
    while True:
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            return
        except OperationalError as exc:
            if "locked" not in str(exc.orig) or time.monotonic() > deadline:
                raise
            time.sleep(_SQLITE_RETRY_S)


def _adopt_unversioned(connection: Connection, config: Config) -> None:
    """Stamp the baseline on a database whose tables were made before migrations existed (no version table)."""
    present = set(inspect(connection).get_table_names())
    baseline = _baseline_columns()
    ours = present & baseline.keys()
    if not ours or VERSION_TABLE in present:
        return  # empty (or versioned but emptied): the scripts create everything
    missing = sorted(baseline.keys() - present)
    for table in sorted(ours):
        have = {column["name"] for column in inspect(connection).get_columns(table)}
        missing += [f"{table}.{column}" for column in sorted(baseline[table] - have)]
    base = _baseline_revision()
    if missing:
        raise MigrationError(
            f"this database has HomeSafe tables made before migrations existed, but lacks {', '.join(missing)}; "
            f"it cannot be adopted. Point the server at a new database (its schema is created at start), or add "
            f"what is missing by hand and run `python -m server.db.migrate stamp {base} --database-url URL`"
        )
    _LOGGER.warning("database made before migrations: stamping the baseline %s, then upgrading", base)
    command.stamp(config, base)


def _baseline_revision() -> str:
    bases = _scripts(str(MIGRATIONS_DIR)).get_bases()
    if len(bases) != 1:
        raise MigrationError(f"expected one baseline revision, found {bases}")
    return bases[0]


@cache
def _baseline_columns() -> dict[str, frozenset[str]]:
    """Tables and columns the baseline revision creates, read off a scratch in-memory database."""
    scratch = create_engine("sqlite://")
    try:
        with scratch.begin() as connection:
            command.upgrade(alembic_config(connection=connection), _baseline_revision())
            inspector = inspect(connection)
            return {
                table: frozenset(column["name"] for column in inspector.get_columns(table))
                for table in inspector.get_table_names()
                if table != VERSION_TABLE
            }
    finally:
        scratch.dispose()


def _where(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def _ruff(path: Path) -> None:
    """Format a generated script so `ruff check .` passes on it; skipped (with a warning) without ruff."""
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        _LOGGER.warning("ruff not found; format %s by hand before committing", path)
        return
    subprocess.run([ruff, "format", "--quiet", str(path)], check=True)
    subprocess.run([ruff, "check", "--fix", "--quiet", str(path)], check=False)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m server.db.migrate COMMAND`: upgrade, current, stamp, revision."""
    parser = argparse.ArgumentParser(prog="python -m server.db.migrate", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    default_url = os.environ.get("HOMESAFE_DATABASE_URL") or "sqlite:///homesafe.db"
    url_help = "SQLAlchemy URL (default $HOMESAFE_DATABASE_URL or sqlite:///homesafe.db)"
    for name, help_text in [("upgrade", "migrate to head"), ("current", "print the database's revision")]:
        sub.add_parser(name, help=help_text).add_argument("--database-url", default=default_url, help=url_help)
    stamp_parser = sub.add_parser("stamp", help="record a revision without running migrations")
    stamp_parser.add_argument("revision")
    stamp_parser.add_argument("--database-url", default=default_url, help=url_help)
    revision = sub.add_parser("revision", help="autogenerate a revision from server.db.tables")
    revision.add_argument("-m", "--message", required=True, help="what changes, e.g. 'add visits.source_id'")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)  # ours says what changed, once

    if args.command == "revision":
        sys.stdout.write(f"{autogenerate_revision(args.message)}\n")
        return 0
    engine = make_engine(args.database_url)
    try:
        if args.command == "upgrade":
            upgrade(engine)
        elif args.command == "stamp":
            stamp(engine, args.revision)
        sys.stdout.write(f"{current(engine) or 'empty'} (head {head()})\n")
    except MigrationError as exc:
        sys.stderr.write(f"python -m server.db.migrate {args.command}: {exc}\n")
        return 1
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
