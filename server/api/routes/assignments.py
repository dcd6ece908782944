"""Visitors assigned to homes: the first told of a home's non-critical alerts, and whose visits count.

Operators write assignments; operators and the responders of the home's community read them.
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
from server.registry.kinds import ASSIGNMENTS
from server.schemas.registry import AssignmentIn, AssignmentPatch, AssignmentPublic

router = APIRouter(prefix="/assignments", tags=["registry"])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_assignment(assignment: AssignmentIn, session: SessionDep, principal: OperatorDep) -> AssignmentPublic:
    """Assign a visitor to a home; 422 naming `home` or `responder_id` when unknown, 409 when already assigned."""
    row = create_one(session=session, principal=principal, kind=ASSIGNMENTS, body=assignment)
    return AssignmentPublic.model_validate(row)


@router.get("")
def read_assignments(
    *,
    session: SessionDep,
    principal: StaffDep,
    home: str | None = None,
    responder_id: int | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[AssignmentPublic]:
    """Assignments in the order they were made, optionally of one home or visitor."""
    rows = read_many(
        session=session, principal=principal, kind=ASSIGNMENTS, filters={"home": home, "responder_id": responder_id},
        limit=limit, offset=offset,
    )
    return [AssignmentPublic.model_validate(row) for row in rows]


@router.get("/{assignment_id}")
def read_assignment(assignment_id: RecordKey, session: SessionDep, principal: StaffDep) -> AssignmentPublic:
    """One assignment; 404 unknown, 403 when its home is outside the caller's communities."""
    row = read_one(session=session, principal=principal, kind=ASSIGNMENTS, record_id=assignment_id)
    return AssignmentPublic.model_validate(row)


@router.patch("/{assignment_id}")
def patch_assignment(
    assignment_id: RecordKey, patch: AssignmentPatch, session: SessionDep, principal: OperatorDep
) -> AssignmentPublic:
    """Hand an assignment over to another visitor (or home)."""
    row = update_one(session=session, principal=principal, kind=ASSIGNMENTS, record_id=assignment_id, patch=patch)
    return AssignmentPublic.model_validate(row)


@router.delete("/{assignment_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_assignment(assignment_id: RecordKey, session: SessionDep, principal: OperatorDep) -> None:
    """End an assignment."""
    delete_one(session=session, principal=principal, kind=ASSIGNMENTS, record_id=assignment_id)
