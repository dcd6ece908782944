"""The communities' call lists: responders and visitors, who get told about an alert in one of their homes.

Operators write them; operators and responders read them (responders: their communities only). Their
phone numbers are personal data, so integrators do not read them.
"""

from __future__ import annotations

from fastapi import APIRouter, status

from server.api.deps import OperatorDep, SessionDep, StaffDep
from server.api.registry import (
    Limit,
    Offset,
    RecordKey,
    create_one,
    delete_one,
    read_many,
    read_one,
    update_one,
)
from server.registry.kinds import RESPONDERS
from server.schemas import ResponderIn, ResponderPublic
from server.schemas.registry import ResponderPatch

router = APIRouter(prefix="/responders", tags=["registry"])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_responder(responder: ResponderIn, session: SessionDep, principal: OperatorDep) -> ResponderPublic:
    """Add a responder to a community's call list; 409 when the phone is already someone's."""
    row = create_one(session=session, principal=principal, kind=RESPONDERS, body=responder)
    return ResponderPublic.model_validate(row)


@router.get("")
def read_responders(
    *,
    session: SessionDep,
    principal: StaffDep,
    community: str | None = None,
    on_duty: bool | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[ResponderPublic]:
    """Responders in the order they were added, optionally of one community or duty state."""
    rows = read_many(
        session=session, principal=principal, kind=RESPONDERS, filters={"community": community, "on_duty": on_duty},
        limit=limit, offset=offset,
    )
    return [ResponderPublic.model_validate(row) for row in rows]


@router.get("/{responder_id}")
def read_responder(responder_id: RecordKey, session: SessionDep, principal: StaffDep) -> ResponderPublic:
    """One responder; 404 unknown, 403 outside the caller's communities."""
    row = read_one(session=session, principal=principal, kind=RESPONDERS, record_id=responder_id)
    return ResponderPublic.model_validate(row)


@router.patch("/{responder_id}")
def patch_responder(
    responder_id: RecordKey, patch: ResponderPatch, session: SessionDep, principal: OperatorDep
) -> ResponderPublic:
    """Change a responder (e.g. `on_duty: false` for leave)."""
    row = update_one(session=session, principal=principal, kind=RESPONDERS, record_id=responder_id, patch=patch)
    return ResponderPublic.model_validate(row)


@router.delete("/{responder_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_responder(responder_id: RecordKey, session: SessionDep, principal: OperatorDep) -> None:
    """Remove a responder with their shifts, assignments and tokens."""
    delete_one(session=session, principal=principal, kind=RESPONDERS, record_id=responder_id)
