"""API tokens: issued, listed, revoked by admins.

A token is shown once, in the answer to the request that issued it; listings show what each token may
do and whether it still works. Every issue and revocation is audited with the change.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Final

from fastapi import APIRouter, HTTPException, Path, Query, Response, status
from fastapi.exceptions import RequestValidationError

from server.api.deps import AdminDep, SessionDep
from server.auth import TokenFieldError, issue_token, list_tokens, revoke_token
from server.crud.audit import record
from server.schemas import TokenCreated, TokenIn, TokenPublic

router = APIRouter(prefix="/tokens", tags=["auth"])

ENTITY: Final = "tokens"
TokenId = Annotated[int, Path(ge=1)]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_token(token: TokenIn, session: SessionDep, principal: AdminDep) -> TokenCreated:
    """Issue a token; the answer is the only place its secret appears. 422 names a bad `responder_id`,
    `communities` or `expires_at`."""
    try:
        row, secret = issue_token(
            session=session, name=token.name, role=token.role, created_by=principal.key, now=datetime.now(UTC),
            responder_id=token.responder_id, communities=token.communities, expires_at=token.expires_at,
        )
    except TokenFieldError as exc:
        value = getattr(token, exc.field, None)
        raise RequestValidationError(
            [{"type": "value_error", "loc": ("body", exc.field), "msg": exc.message, "input": value}]
        ) from None
    fields = [name for name in TokenIn.model_fields if getattr(token, name) not in (None, [])]
    record(session=session, actor=principal.key, action="create", entity=ENTITY, entity_id=row.id, fields=fields,
           role=row.role)
    session.commit()
    return TokenCreated(**TokenPublic.model_validate(row).model_dump(), token=secret)


@router.get("")
def read_tokens(
    session: SessionDep, _principal: AdminDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[TokenPublic]:
    """Tokens newest first, with revoked and expired ones; never the tokens or their digests."""
    return [TokenPublic.model_validate(row) for row in list_tokens(session=session, limit=limit)]


@router.delete("/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_token(token_id: TokenId, session: SessionDep, principal: AdminDep) -> Response:
    """Revoke a token: from now on it gets 401. 404 unknown; revoking again changes nothing."""
    row, revoked = revoke_token(session=session, token_id=token_id, now=datetime.now(UTC))
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no token {token_id}")
    if revoked:
        record(session=session, actor=principal.key, action="revoke", entity=ENTITY, entity_id=token_id,
               fields=["revoked_at"])
        session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
