"""Reading alerts, newest first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from server.api.deps import SessionDep
from server.crud.alerts import list_alerts
from server.schemas import AlertPublic

router = APIRouter(prefix="/alerts", tags=["alerts"])


@router.get("")
def read_alerts(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    home: str | None = None,
) -> list[AlertPublic]:
    """Alerts newest first (by event time), optionally of one home."""
    return [AlertPublic.model_validate(row) for row in list_alerts(session=session, limit=limit, home=home)]
