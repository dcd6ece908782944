"""The outbox: listing notifications, and claiming (most urgent alert first) and settling them for the
dispatcher.

A claim is a conditional UPDATE of a due pending row, so two dispatchers (a sweep racing a wake, or two
server processes on one database) never both get the same row, on SQLite as on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, case, or_, select, update
from sqlalchemy.orm import Session

from server.db.tables import AlertRow, AlertStatus, NotificationRow, NotificationStatus
from server.escalation.policy import SEVERITY_ORDER, severity_rank


@dataclass(frozen=True, slots=True)
class Claim:
    """A notification this dispatcher holds for one lease: everything needed to send and settle it."""

    id: int
    alert_id: str
    to: str
    channel: str
    body: str
    attempts: int  # including this one


def list_notifications(*, session: Session, limit: int, alert_id: str | None = None) -> Sequence[NotificationRow]:
    """Notifications newest first, optionally of one alert."""
    query = select(NotificationRow).order_by(NotificationRow.id.desc()).limit(limit)
    if alert_id is not None:
        query = query.where(NotificationRow.alert_id == alert_id)
    return session.scalars(query).all()


def _due(now: datetime) -> ColumnElement[bool]:
    return (NotificationRow.status == NotificationStatus.PENDING) & or_(
        NotificationRow.not_before.is_(None), NotificationRow.not_before <= now
    )


def _urgency() -> ColumnElement[int]:
    """0 for a critical alert's notification, 1 high (or unknown), 2 maintenance: the order sends go in."""
    return case(
        *((AlertRow.severity == severity, rank) for rank, severity in enumerate(SEVERITY_ORDER)),
        else_=severity_rank("unknown"),
    )


def claim_due(*, session: Session, now: datetime, lease: timedelta, limit: int) -> list[Claim]:
    """Claim up to `limit` due notifications for `lease` and count the attempt. Commits.

    A dispatcher that dies holding a claim only delays the row: it is due again when the lease ends.
    """
    # Most urgent first, then oldest: when the provider's rate holds messages back, an SOS takes the next
    # free slot ahead of any maintenance text that has waited longer.
    candidates = session.scalars(
        select(NotificationRow.id)
        .join(AlertRow, AlertRow.id == NotificationRow.alert_id)
        .where(_due(now))
        .order_by(_urgency(), NotificationRow.id)
        .limit(limit)
    ).all()
    claimed: list[int] = []
    for notification_id in candidates:
        # Re-checking "due" in the UPDATE is what makes the claim exclusive: a row another dispatcher
        # claimed since the SELECT no longer matches, and rowcount says so.
        result = session.execute(
            update(NotificationRow)
            .where(NotificationRow.id == notification_id, _due(now))
            .values(not_before=now + lease, attempts=NotificationRow.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        if cast(CursorResult[Any], result).rowcount == 1:
            claimed.append(notification_id)
    session.commit()
    if not claimed:
        return []
    rows = session.execute(
        select(
            NotificationRow.id,
            NotificationRow.alert_id,
            NotificationRow.to,
            NotificationRow.channel,
            NotificationRow.body,
            NotificationRow.attempts,
        )
        .where(NotificationRow.id.in_(claimed))
    ).all()
    order = {notification_id: index for index, notification_id in enumerate(claimed)}
    return sorted((Claim(*row) for row in rows), key=lambda claim: order[claim.id])


def mark_sent(*, session: Session, claim: Claim, provider_id: str, now: datetime) -> None:
    """Settle a claim as sent, and move its alert from open to notified. Commits.

    A delivery receipt can beat this write (a fast "delivered" or "undelivered" callback): the status
    only moves from pending to sent, never back over what the receipt said.
    """
    session.execute(
        update(NotificationRow)
        .where(NotificationRow.id == claim.id)
        .values(provider_id=provider_id, sent_at=now, not_before=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(NotificationRow)
        .where(NotificationRow.id == claim.id, NotificationRow.status == NotificationStatus.PENDING)
        .values(status=NotificationStatus.SENT, error=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(AlertRow)
        .where(AlertRow.id == claim.alert_id, AlertRow.status == AlertStatus.OPEN)
        .values(status=AlertStatus.NOTIFIED)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def mark_retry(*, session: Session, claim: Claim, error: str, retry_at: datetime) -> None:
    """Leave a claim pending, to be claimed again from `retry_at`. Commits."""
    session.execute(
        update(NotificationRow)
        .where(NotificationRow.id == claim.id)
        .values(not_before=retry_at, error=error)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def defer(*, session: Session, claim: Claim, not_before: datetime) -> None:
    """Give a claim back untried, due at `not_before` (the provider's rate said wait). Commits.

    Not an attempt: the message was never offered to the provider, so its backoff and count stay as they were.
    """
    session.execute(
        update(NotificationRow)
        .where(NotificationRow.id == claim.id, NotificationRow.status == NotificationStatus.PENDING)
        .values(not_before=not_before, attempts=NotificationRow.attempts - 1)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def mark_failed(*, session: Session, claim: Claim, error: str) -> None:
    """Settle a claim as failed for good (the provider refused it). Commits."""
    session.execute(
        update(NotificationRow)
        .where(NotificationRow.id == claim.id)
        .values(status=NotificationStatus.FAILED, not_before=None, error=error)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def release(*, session: Session, claims: Sequence[Claim]) -> None:
    """Give back claims that were not attempted (the dispatcher is stopping), due at once. Commits."""
    for claim in claims:
        session.execute(
            update(NotificationRow)
            .where(NotificationRow.id == claim.id, NotificationRow.status == NotificationStatus.PENDING)
            .values(not_before=None, attempts=NotificationRow.attempts - 1)
            .execution_options(synchronize_session=False)
        )
    session.commit()
