"""On-call shifts: when each responder is on duty, as weekly windows in a time zone.

A responder with no shifts is on duty whenever their `on_duty` flag is set; one with shifts only
inside them (`server/registry/oncall.py`). Operators write shifts; operators and responders read them.
"""

from __future__ import annotations

from fastapi import APIRouter, status

from server.api.deps import EscalationDep, OperatorDep, SessionDep, StaffDep
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
from server.registry.kinds import SHIFTS
from server.schemas.registry import ShiftIn, ShiftPatch, ShiftPublic

router = APIRouter(prefix="/shifts", tags=["registry"])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_shift(shift: ShiftIn, session: SessionDep, principal: OperatorDep, escalation: EscalationDep) -> ShiftPublic:
    """Add a shift (time zone: the policy's unless given); 422 naming `responder_id` when unknown."""
    row = create_one(
        session=session, principal=principal, kind=SHIFTS, body=shift,
        defaults={"timezone": escalation.policy.timezone},
    )
    return ShiftPublic.model_validate(row)


@router.get("")
def read_shifts(
    session: SessionDep,
    principal: StaffDep,
    responder_id: int | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[ShiftPublic]:
    """Shifts in the order they were added, optionally of one responder."""
    rows = read_many(
        session=session, principal=principal, kind=SHIFTS, filters={"responder_id": responder_id},
        limit=limit, offset=offset,
    )
    return [ShiftPublic.model_validate(row) for row in rows]


@router.get("/{shift_id}")
def read_shift(shift_id: RecordKey, session: SessionDep, principal: StaffDep) -> ShiftPublic:
    """One shift; 404 unknown, 403 when its responder is outside the caller's communities."""
    return ShiftPublic.model_validate(read_one(session=session, principal=principal, kind=SHIFTS, record_id=shift_id))


@router.patch("/{shift_id}")
def patch_shift(shift_id: RecordKey, patch: ShiftPatch, session: SessionDep, principal: OperatorDep) -> ShiftPublic:
    """Change a shift's days, hours or time zone."""
    return ShiftPublic.model_validate(
        update_one(session=session, principal=principal, kind=SHIFTS, record_id=shift_id, patch=patch)
    )


@router.delete("/{shift_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_shift(shift_id: RecordKey, session: SessionDep, principal: OperatorDep) -> None:
    """Remove a shift."""
    delete_one(session=session, principal=principal, kind=SHIFTS, record_id=shift_id)
