"""The steps every registry route shares: scope checks, the write with its audit row, errors as HTTP.

A write and its audit row are committed together, so the audit never misses a change nor records one
that did not happen. Reads are scoped by the caller's communities: lists leave other communities out,
a single record outside them is a 403.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Query, status
from pydantic import BaseModel
from sqlalchemy.orm import Session

from server.api.deps import forbid_unless_sees, require
from server.auth import Principal, Role
from server.crud.audit import record
from server.crud.registry import (
    Kind,
    RegistryError,
    community_of,
    create_record,
    delete_record,
    get_record,
    list_records,
    update_record,
    upsert_record,
)
from server.schemas.registry import Patch, values_of


def http_error(exc: RegistryError) -> HTTPException:
    """The HTTP answer to a registry error; a dangling reference is a 422 shaped like FastAPI's own."""
    if exc.status_code == status.HTTP_422_UNPROCESSABLE_CONTENT and exc.field is not None:
        detail: Any = [{"type": "unknown_reference", "loc": ["body", exc.field], "msg": exc.message}]
    else:
        detail = exc.message
    return HTTPException(exc.status_code, detail=detail)


def read_one(*, session: Session, principal: Principal, kind: Kind, record_id: Any) -> Any:
    """A record the caller may see: 404 when there is none, 403 when it is outside their communities."""
    try:
        row = get_record(session=session, kind=kind, record_id=record_id)
    except RegistryError as exc:
        raise http_error(exc) from None
    forbid_unless_sees(principal, community_of(session=session, kind=kind, row=row))
    return row


def read_many(
    *, session: Session, principal: Principal, kind: Kind, filters: Mapping[str, Any], limit: int, offset: int
) -> Sequence[Any]:
    """The records matching `filters` that the caller may see, in id order."""
    return list_records(
        session=session, kind=kind, limit=limit, offset=offset, filters=filters, communities=principal.communities
    )


def create_one(
    *, session: Session, principal: Principal, kind: Kind, body: BaseModel, defaults: Mapping[str, Any] | None = None
) -> Any:
    """Create a record from a request body and audit it (the fields given, never their values)."""
    now = datetime.now(UTC)
    values = values_of(body)
    for name, value in (defaults or {}).items():
        if values.get(name) is None:
            values[name] = value
    try:
        row = create_record(session=session, kind=kind, values=values, now=now)
    except RegistryError as exc:
        raise http_error(exc) from None
    record(
        session=session, actor=principal.key, action="create", entity=kind.name, entity_id=row.id,
        fields=body.model_fields_set, now=now,
    )
    session.commit()
    return row


def upsert_one(*, session: Session, principal: Principal, kind: Kind, body: BaseModel) -> tuple[Any, bool]:
    """Create a record, or update the one with the same natural key; audited as a create or an update."""
    now = datetime.now(UTC)
    try:
        row, created = upsert_record(session=session, kind=kind, values=values_of(body), now=now)
    except RegistryError as exc:
        raise http_error(exc) from None
    record(
        session=session, actor=principal.key, action="create" if created else "update", entity=kind.name,
        entity_id=row.id, fields=body.model_fields_set, now=now,
    )
    session.commit()
    return row, created


def update_one(*, session: Session, principal: Principal, kind: Kind, record_id: Any, patch: Patch) -> Any:
    """Apply a partial update and audit the fields that changed."""
    now = datetime.now(UTC)
    row = read_one(session=session, principal=principal, kind=kind, record_id=record_id)
    try:
        changed = update_record(session=session, kind=kind, row=row, changes=values_of(patch), now=now)
    except RegistryError as exc:
        raise http_error(exc) from None
    record(
        session=session, actor=principal.key, action="update", entity=kind.name, entity_id=row.id, fields=changed,
        now=now,
    )
    session.commit()
    return row


def delete_one(*, session: Session, principal: Principal, kind: Kind, record_id: Any) -> None:
    """Delete a record (and, by the database's cascades, what hangs off it) and audit it."""
    now = datetime.now(UTC)
    row = read_one(session=session, principal=principal, kind=kind, record_id=record_id)
    key = row.id
    delete_record(session=session, kind=kind, row=row)
    record(session=session, actor=principal.key, action="delete", entity=kind.name, entity_id=key, now=now)
    session.commit()


Limit = Annotated[int, Query(ge=1, le=1000, description="at most this many records")]
Offset = Annotated[int, Query(ge=0, description="skip this many records first")]
RecordKey = Annotated[int, Path(ge=1)]
# Installers and test benches (integrators) register homes and devices; everything else is the operators'.
InstallerDep = Annotated[Principal, Depends(require(Role.OPERATOR, Role.INTEGRATOR))]
