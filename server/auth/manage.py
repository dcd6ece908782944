"""Tokens managed straight in the database, for `homesafe token ...` on the server's host.

This is how the first admin token is made when `HOMESAFE_ADMIN_TOKEN` is unset: whoever can open the
database already has everything a token would give. Each write is audited like the API's, with the
actor `cli`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Final

from sqlalchemy.orm import Session

from server.auth.principal import Role
from server.auth.tokens import issue_token, list_tokens, revoke_token
from server.crud.audit import record
from server.db.session import create_schema, make_engine, make_sessionmaker
from server.db.tables import ApiTokenRow

CLI_ACTOR: Final = "cli"
ENTITY: Final = "tokens"


@contextmanager
def _session(database_url: str) -> Iterator[Session]:
    engine = make_engine(database_url)
    try:
        create_schema(engine)  # a fresh database gets its tables, as the server would make them
        with make_sessionmaker(engine)() as session:
            yield session
    finally:
        engine.dispose()


def create(
    database_url: str,
    *,
    name: str,
    role: Role,
    responder_id: int | None = None,
    communities: Iterable[str] = (),
    expires_at: datetime | None = None,
) -> tuple[ApiTokenRow, str]:
    """Issue a token and audit it; returns the row and the token, which is shown once and kept nowhere.

    Raises:
        TokenFieldError: as `issue_token`, naming the field at fault.
    """
    with _session(database_url) as session:
        row, token = issue_token(
            session=session, name=name, role=role, created_by=CLI_ACTOR, now=datetime.now(UTC),
            responder_id=responder_id, communities=communities, expires_at=expires_at,
        )
        fields = ["name", "role"] + [
            field for field, value in
            (("responder_id", responder_id), ("communities", row.communities), ("expires_at", expires_at)) if value
        ]
        record(session=session, actor=CLI_ACTOR, action="create", entity=ENTITY, entity_id=row.id, fields=fields,
               role=row.role)
        session.commit()
        return row, token


def listing(database_url: str, *, limit: int = 1000) -> Sequence[ApiTokenRow]:
    """Every token newest first (never the tokens themselves: only their digests are stored)."""
    with _session(database_url) as session:
        return list_tokens(session=session, limit=limit)


def revoke(database_url: str, token_id: int) -> bool | None:
    """Revoke a token and audit it: `True` revoked now, `False` it already was, `None` no such token."""
    with _session(database_url) as session:
        row, revoked = revoke_token(session=session, token_id=token_id, now=datetime.now(UTC))
        if row is None:
            return None
        if revoked:
            record(session=session, actor=CLI_ACTOR, action="revoke", entity=ENTITY, entity_id=token_id,
                   fields=["revoked_at"])
            session.commit()
        return revoked


def state(row: ApiTokenRow, now: datetime) -> str:
    """active, expired or revoked: whether the token opens the API now."""
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at is not None and row.expires_at <= now:
        return "expired"
    return "active"
