"""Residents of the registered homes: who lives there, their category, conditions and consent.

Names and conditions are personal data: operators write them, operators and the responders of the
home's community read them, integrators never do (403). The audit names changed fields, not values.
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
from server.registry.kinds import RESIDENTS
from server.schemas.registry import Category, ResidentIn, ResidentPatch, ResidentPublic

router = APIRouter(prefix="/residents", tags=["registry"])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_resident(resident: ResidentIn, session: SessionDep, principal: OperatorDep) -> ResidentPublic:
    """Register a resident; 422 naming `home` when it is not registered, 409 for a second one of that name."""
    row = create_one(session=session, principal=principal, kind=RESIDENTS, body=resident)
    return ResidentPublic.model_validate(row)


@router.get("")
def read_residents(
    *,
    session: SessionDep,
    principal: StaffDep,
    home: str | None = None,
    category: Category | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[ResidentPublic]:
    """Residents in the order they were registered, optionally of one home or category."""
    rows = read_many(
        session=session, principal=principal, kind=RESIDENTS, filters={"home": home, "category": category},
        limit=limit, offset=offset,
    )
    return [ResidentPublic.model_validate(row) for row in rows]


@router.get("/{resident_id}")
def read_resident(resident_id: RecordKey, session: SessionDep, principal: StaffDep) -> ResidentPublic:
    """One resident; 404 unknown, 403 outside the caller's communities."""
    row = read_one(session=session, principal=principal, kind=RESIDENTS, record_id=resident_id)
    return ResidentPublic.model_validate(row)


@router.patch("/{resident_id}")
def patch_resident(
    resident_id: RecordKey, patch: ResidentPatch, session: SessionDep, principal: OperatorDep
) -> ResidentPublic:
    """Change a resident; giving consent stamps `consent_at`, withdrawing it clears it."""
    row = update_one(session=session, principal=principal, kind=RESIDENTS, record_id=resident_id, patch=patch)
    return ResidentPublic.model_validate(row)


@router.delete("/{resident_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_resident(resident_id: RecordKey, session: SessionDep, principal: OperatorDep) -> None:
    """Remove a resident."""
    delete_one(session=session, principal=principal, kind=RESIDENTS, record_id=resident_id)
