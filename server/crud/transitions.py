"""The audit trail of alerts: one row per change (status, step sent or skipped, merge, failure)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.tables import AlertTransitionRow


def add_transition(
    *,
    session: Session,
    alert_id: str,
    at: datetime,
    kind: str,
    from_status: str | None,
    to_status: str,
    actor: str | None = None,
    channel: str | None = None,
    step: int | None = None,
    detail: str | None = None,
) -> AlertTransitionRow:
    """Add a transition to the session (the caller commits it with the change it records)."""
    row = AlertTransitionRow(
        alert_id=alert_id,
        at=at,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        channel=channel,
        step=step,
        detail=detail,
    )
    session.add(row)
    return row


def list_transitions(*, session: Session, alert_id: str) -> Sequence[AlertTransitionRow]:
    """An alert's transitions, oldest first."""
    query = (
        select(AlertTransitionRow)
        .where(AlertTransitionRow.alert_id == alert_id)
        .order_by(AlertTransitionRow.at, AlertTransitionRow.id)
    )
    return session.scalars(query).all()
