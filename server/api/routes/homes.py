"""Homes: registering them (posting an existing id updates it), reading, changing and removing them.

Operators and integrators (installers, test benches) write homes; everyone reads them, responders only
those of their communities. Deleting a home deletes its residents, devices, contacts and assignments.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from server.api.deps import ReaderDep, SessionDep
from server.api.registry import (
    InstallerDep,
    Limit,
    Offset,
    delete_one,
    read_many,
    read_one,
    update_one,
    upsert_one,
)
from server.registry.kinds import HOMES
from server.schemas import HomeIn, HomePublic
from server.schemas.registry import HomePatch

router = APIRouter(prefix="/homes", tags=["registry"])

HomeKey = Annotated[str, Path(min_length=1, max_length=64)]


@router.post("", status_code=status.HTTP_201_CREATED, responses={200: {"description": "an existing home updated"}})
def put_home(home: HomeIn, session: SessionDep, principal: InstallerDep, response: Response) -> HomePublic:
    """Register a home (201), or update the community and address of the one with this id (200)."""
    row, created = upsert_one(session=session, principal=principal, kind=HOMES, body=home)
    if not created:
        response.status_code = status.HTTP_200_OK
    return HomePublic.model_validate(row)


@router.get("")
def read_homes(
    *,
    session: SessionDep,
    principal: ReaderDep,
    community: str | None = None,
    shard: int | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[HomePublic]:
    """Homes by id, optionally of one community or gateway shard."""
    rows = read_many(
        session=session, principal=principal, kind=HOMES, filters={"community": community, "shard": shard},
        limit=limit, offset=offset,
    )
    return [HomePublic.model_validate(row) for row in rows]


@router.get("/{home_id}")
def read_home(home_id: HomeKey, session: SessionDep, principal: ReaderDep) -> HomePublic:
    """One home; 404 unknown, 403 outside the caller's communities."""
    return HomePublic.model_validate(read_one(session=session, principal=principal, kind=HOMES, record_id=home_id))


@router.patch("/{home_id}")
def patch_home(home_id: HomeKey, patch: HomePatch, session: SessionDep, principal: InstallerDep) -> HomePublic:
    """Change a home's community or address."""
    row = update_one(session=session, principal=principal, kind=HOMES, record_id=home_id, patch=patch)
    return HomePublic.model_validate(row)


@router.delete("/{home_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_home(home_id: HomeKey, session: SessionDep, principal: InstallerDep) -> None:
    """Remove a home and everything registered in it."""
    delete_one(session=session, principal=principal, kind=HOMES, record_id=home_id)
