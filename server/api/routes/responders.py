"""The communities' call lists: who gets told about an alert in one of their homes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from server.api.deps import SessionDep
from server.crud.registry import add_responder, list_responders
from server.schemas import ResponderIn, ResponderPublic

router = APIRouter(prefix="/responders", tags=["registry"])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_responder(responder: ResponderIn, session: SessionDep) -> ResponderPublic:
    """Add a responder to a community's call list."""
    row = add_responder(
        session=session,
        name=responder.name,
        phone=responder.phone,
        community=responder.community,
        on_duty=responder.on_duty,
    )
    return ResponderPublic.model_validate(row)


@router.get("")
def read_responders(
    session: SessionDep,
    community: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[ResponderPublic]:
    """Responders in the order they were added, optionally of one community."""
    rows = list_responders(session=session, limit=limit, community=community)
    return [ResponderPublic.model_validate(row) for row in rows]
