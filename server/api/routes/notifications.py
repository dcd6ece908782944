"""Reading the notifications outbox: who was told what, and whether it went out.

Operators and admins only: every row holds a phone number and the message text.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from server.api.deps import OperatorDep, SessionDep
from server.crud.notifications import list_notifications
from server.schemas import NotificationPublic

router = APIRouter(prefix="/notifications", tags=["notifications"])


@router.get("")
def read_notifications(
    session: SessionDep,
    _principal: OperatorDep,
    alert_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[NotificationPublic]:
    """Notifications newest first, optionally of one alert."""
    rows = list_notifications(session=session, limit=limit, alert_id=alert_id)
    return [NotificationPublic.model_validate(row) for row in rows]
