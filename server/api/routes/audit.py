"""The audit log of every write, newest first, for admins.

Rows name the actor, the action, the record and the fields written, never their values, so the log
can be read and exported without exposing residents' data.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from server.api.deps import AdminDep, SessionDep
from server.crud.audit import list_audit
from server.schemas import AuditPublic

router = APIRouter(prefix="/audit", tags=["auth"])


@router.get("")
def read_audit(
    session: SessionDep,
    _principal: AdminDep,
    entity: Annotated[str | None, Query(max_length=32, examples=["alerts", "residents"])] = None,
    entity_id: Annotated[str | None, Query(max_length=64)] = None,
    actor: Annotated[str | None, Query(max_length=64, examples=["responder:12", "token:3"])] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditPublic]:
    """Audit rows newest first, optionally of one entity (and record) or one actor."""
    rows = list_audit(session=session, limit=limit, entity=entity, entity_id=entity_id, actor=actor)
    return [AuditPublic.model_validate(row) for row in rows]
