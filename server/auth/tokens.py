"""Bearer tokens: issued once, stored as a SHA-256 digest, resolved to a `Principal` per request.

A token is 32 random bytes (URL-safe base64), so a plain SHA-256 is enough to store it: there is
nothing to brute-force as with passwords, and a lookup by digest needs no per-row salt.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.auth.principal import ADMIN, Principal, Role
from server.db.tables import ApiTokenRow, ResponderRow

TOKEN_BYTES: Final = 32
TOKEN_PREFIX: Final = "hs_"  # tells a HomeSafe token apart in a secret scanner or a pasted config


def hash_token(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


class TokenFieldError(ValueError):
    """A token request that cannot be honoured, naming the field at fault (`responder_id`, `communities`, ...)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _check_request(
    session: Session,
    *,
    role: Role,
    responder_id: int | None,
    communities: Sequence[str],
    expires_at: datetime | None,
    now: datetime,
) -> None:
    if role is Role.RESPONDER:
        if responder_id is None:
            raise TokenFieldError("responder_id", "required for a responder token, which acts as that responder")
        if session.get(ResponderRow, responder_id) is None:
            raise TokenFieldError("responder_id", f"no responder {responder_id}")
    else:
        if responder_id is not None:
            raise TokenFieldError("responder_id", f"only responder tokens act as a responder, not {role.value} ones")
        if communities:
            # Other roles see every community; a list here would promise a restriction that is not applied.
            raise TokenFieldError("communities", f"only responder tokens are limited to communities, not {role.value}")
    if expires_at is not None and expires_at <= now:
        raise TokenFieldError("expires_at", f"{expires_at.isoformat()} is not in the future")


def issue_token(
    *,
    session: Session,
    name: str,
    role: Role,
    created_by: str,
    now: datetime,
    responder_id: int | None = None,
    communities: Iterable[str] = (),
    expires_at: datetime | None = None,
) -> tuple[ApiTokenRow, str]:
    """Create a token row and return it with the token itself, which is not kept anywhere.

    The caller commits (so the audit row of the same write lands with it).

    Raises:
        TokenFieldError: a responder token without an existing `responder_id`, a `responder_id` or
            `communities` on another role, or an `expires_at` not in the future.
    """
    scope = sorted(set(communities))
    _check_request(session, role=role, responder_id=responder_id, communities=scope, expires_at=expires_at, now=now)
    token = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    row = ApiTokenRow(
        digest=hash_token(token),
        name=name,
        role=role.value,
        responder_id=responder_id,
        communities=scope,
        created_at=now,
        created_by=created_by,
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    return row, token


def list_tokens(*, session: Session, limit: int) -> Sequence[ApiTokenRow]:
    """Tokens newest first, revoked and expired ones included (their rows are the record of who had access)."""
    return session.scalars(select(ApiTokenRow).order_by(ApiTokenRow.id.desc()).limit(limit)).all()


def revoke_token(*, session: Session, token_id: int, now: datetime) -> tuple[ApiTokenRow | None, bool]:
    """Revoke a token from now on; returns the row (`None` if unknown) and whether this call revoked it.

    Revoking twice changes nothing (the first time stays the record). The caller commits.
    """
    row = session.get(ApiTokenRow, token_id)
    if row is None or row.revoked_at is not None:
        return row, False
    row.revoked_at = now
    return row, True


def resolve_token(*, session: Session, token: str, admin_token: str | None, now: datetime) -> Principal | None:
    """The caller a bearer token stands for, or `None` when it is unknown, revoked or expired."""
    # compare_digest: the time taken must not tell how much of a guessed admin token was right.
    if admin_token is not None and hmac.compare_digest(token.encode(), admin_token.encode()):
        return ADMIN
    row = session.scalar(select(ApiTokenRow).where(ApiTokenRow.digest == hash_token(token)))
    if row is None or row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        return None
    role = Role(row.role)
    if role is not Role.RESPONDER:
        return Principal(key=f"token:{row.id}", role=role, token_id=row.id)
    responder = session.get(ResponderRow, row.responder_id) if row.responder_id is not None else None
    if responder is None:  # the responder was deleted: the token goes with them
        return None
    communities = frozenset(row.communities or ()) | {responder.community}
    return Principal(
        key=f"responder:{responder.id}",
        role=role,
        token_id=row.id,
        responder_id=responder.id,
        communities=communities,
    )
