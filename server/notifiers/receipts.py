"""Delivery receipts from any provider: one vocabulary, one way to record them, escalation on failure.

A provider's webhook maps its own statuses onto `Delivery` and calls `record_delivery`; nothing past
this module knows which provider sent the receipt.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final, cast

from sqlalchemy import CursorResult, or_, update

from server.crud.lifecycle import notification_failed
from server.db.tables import NotificationRow, NotificationStatus

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

_LOGGER = logging.getLogger(__name__)


class Delivery(StrEnum):
    """How far a message got, as the provider reports it; stored in `notifications.status`.

    Undelivered and failed are both settled by the lifecycle as `failed` (and the next step brought
    forward); the provider's own word stays in `notifications.error`, e.g. "twilio undelivered (error 30003)".
    """

    QUEUED = "queued"  # the provider holds it
    SENT = "sent"  # handed to the carrier, or the phone is ringing
    DELIVERED = "delivered"  # the handset has it, or the call was answered
    UNDELIVERED = "undelivered"  # the carrier could not deliver it, or busy / no answer
    FAILED = "failed"  # never left the provider


FAILURES: Final = frozenset({Delivery.UNDELIVERED, Delivery.FAILED})
# Receipts arrive out of order and more than once: a status only ever moves up this ladder, and a final
# one (delivered, undelivered, failed) never changes.
_RANK: Final = {
    NotificationStatus.PENDING: 0,
    Delivery.QUEUED: 1,
    Delivery.SENT: 2,
    Delivery.DELIVERED: 3,
    Delivery.UNDELIVERED: 3,
    Delivery.FAILED: 3,
}


def record_delivery(
    *,
    session: Session,
    notification_id: int,
    provider_id: str | None,
    status: Delivery,
    error: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Record a receipt; on undelivered or failed, have the lifecycle escalate at once. Commits.

    Idempotent: a repeated or late receipt (lower or equal rank) changes nothing and escalates nothing,
    and of two concurrent ones only the first wins (the rank check is in the UPDATE itself). A receipt for
    another message than the one stored (`provider_id` differs) is ignored. Returns whether it applied.
    """
    below = [name for name, rank in _RANK.items() if rank < _RANK[status]]
    values: dict[str, Any] = {"status": status}
    if status in FAILURES:
        values["error"] = error
    query = update(NotificationRow).where(NotificationRow.id == notification_id, NotificationRow.status.in_(below))
    if provider_id is not None:
        query = query.where(or_(NotificationRow.provider_id.is_(None), NotificationRow.provider_id == provider_id))
    query = query.values(**values).execution_options(synchronize_session=False)
    result = cast(CursorResult[Any], session.execute(query))
    if result.rowcount != 1:
        session.commit()
        return False
    if status in FAILURES:
        _LOGGER.warning("notification %d %s (%s); escalating", notification_id, status, error or "no reason given")
        notification_failed(
            session=session,
            notification_id=notification_id,
            error=error or str(status),
            now=now if now is not None else datetime.now(UTC),
        )
    session.commit()
    return True
