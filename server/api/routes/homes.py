"""Registering homes and the community that covers each."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from server.api.deps import SessionDep
from server.crud.registry import list_homes, upsert_home
from server.schemas import HomeIn, HomePublic

router = APIRouter(prefix="/homes", tags=["registry"])


@router.post("")
def put_home(home: HomeIn, session: SessionDep) -> HomePublic:
    """Register a home, or update its community and address."""
    row = upsert_home(session=session, home_id=home.id, community=home.community, address=home.address)
    return HomePublic.model_validate(row)


@router.get("")
def read_homes(
    session: SessionDep,
    community: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[HomePublic]:
    """Registered homes by id, optionally of one community."""
    return [HomePublic.model_validate(row) for row in list_homes(session=session, limit=limit, community=community)]
