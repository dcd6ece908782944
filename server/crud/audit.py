"""The audit log: one row per write through the API, in the same transaction as the write.

A row says who, when, which action on which record, and which fields: never their values, so the log
holds no names, phone numbers or conditions and may be shown to any admin or exported.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.tables import AuditRow


def record(
    *,
    session: Session,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | int | None = None,
    fields: Iterable[str] = (),
    now: datetime | None = None,
    **detail: Any,
) -> AuditRow:
    """Add an audit row to the session; the caller's commit writes it with the change it describes.

    Args:
        actor: the principal's key ("admin", "token:3", "responder:12").
        action: create, update, delete, import, ack, resolve, visit, revoke, ...
        entity: the table or resource, e.g. "residents".
        fields: names of the fields written (values are never recorded).
        detail: other non-personal facts, e.g. `rows=120` for an import.
    """
    body: dict[str, Any] = dict(detail)
    names = sorted(set(fields))
    if names:
        body["fields"] = names
    row = AuditRow(
        at=now if now is not None else datetime.now(UTC),
        actor=actor,
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        detail=body,
    )
    session.add(row)
    return row


def list_audit(
    *,
    session: Session,
    limit: int,
    entity: str | None = None,
    entity_id: str | None = None,
    actor: str | None = None,
) -> Sequence[AuditRow]:
    """Audit rows newest first, optionally of one record or one actor."""
    query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
    if entity is not None:
        query = query.where(AuditRow.entity == entity)
    if entity_id is not None:
        query = query.where(AuditRow.entity_id == entity_id)
    if actor is not None:
        query = query.where(AuditRow.actor == actor)
    return session.scalars(query).all()
