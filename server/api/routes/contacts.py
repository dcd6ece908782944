"""Family and emergency contacts of the homes, called in `order` when responders do not answer.

Names and phones are personal data: operators write them, operators and the responders of the home's
community read them, integrators never do (403).
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
from server.registry.kinds import CONTACTS
from server.schemas.registry import ContactIn, ContactPatch, ContactPublic

router = APIRouter(prefix="/contacts", tags=["registry"])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_contact(contact: ContactIn, session: SessionDep, principal: OperatorDep) -> ContactPublic:
    """Add a contact; 422 naming `home` when it is not registered, 409 when the home has that phone already."""
    return ContactPublic.model_validate(create_one(session=session, principal=principal, kind=CONTACTS, body=contact))


@router.get("")
def read_contacts(
    session: SessionDep, principal: StaffDep, home: str | None = None, limit: Limit = 100, offset: Offset = 0
) -> list[ContactPublic]:
    """Contacts in the order they were added, optionally of one home."""
    rows = read_many(
        session=session, principal=principal, kind=CONTACTS, filters={"home": home}, limit=limit, offset=offset
    )
    return [ContactPublic.model_validate(row) for row in rows]


@router.get("/{contact_id}")
def read_contact(contact_id: RecordKey, session: SessionDep, principal: StaffDep) -> ContactPublic:
    """One contact; 404 unknown, 403 outside the caller's communities."""
    return ContactPublic.model_validate(
        read_one(session=session, principal=principal, kind=CONTACTS, record_id=contact_id)
    )


@router.patch("/{contact_id}")
def patch_contact(
    contact_id: RecordKey, patch: ContactPatch, session: SessionDep, principal: OperatorDep
) -> ContactPublic:
    """Change a contact (e.g. its `order` in the call list)."""
    return ContactPublic.model_validate(
        update_one(session=session, principal=principal, kind=CONTACTS, record_id=contact_id, patch=patch)
    )


@router.delete("/{contact_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_contact(contact_id: RecordKey, session: SessionDep, principal: OperatorDep) -> None:
    """Remove a contact."""
    delete_one(session=session, principal=principal, kind=CONTACTS, record_id=contact_id)
