"""Alembic's environment: runs on the connection `server.db.migrate` hands over, inside its lock.

There is no alembic.ini and no URL here: the caller (the server starting, or `python -m server.db.migrate`)
owns the engine, the transaction and the lock, so two servers starting together never both migrate.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext

from server.db.tables import Base
from server.db.types import UTCDateTime


def render_item(type_: str, obj: Any, _autogen_context: AutogenContext) -> str | Literal[False]:
    """Render our column types as plain SQLAlchemy ones, so a migration never imports app code that may change."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations() -> None:
    """Run the migrations asked for on the connection in `config.attributes`."""
    connection = context.config.attributes.get("connection")
    if connection is None or context.is_offline_mode():
        raise RuntimeError("migrations run through server.db.migrate, e.g. `python -m server.db.migrate upgrade`")
    context.configure(
        connection=connection,
        target_metadata=context.config.attributes.get("target_metadata", Base.metadata),
        render_as_batch=True,  # SQLite alters a table by copying it; batch ops do that, and are plain ALTERs elsewhere
        render_item=render_item,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
