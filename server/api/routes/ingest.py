"""Where the gateway delivers alerts: a JSON array of protocol alerts, stored once each.

Guarded by the ingest token when one is set (`deps.authorize_ingest` says why it is open otherwise).
"""

from __future__ import annotations

import logging

import msgspec
from fastapi import APIRouter, Depends, HTTPException, status

from gateway.protocol import decode_alerts
from server.api.deps import DispatcherDep, EscalationDep, RawBodyDep, SessionDep, authorize_ingest
from server.crud.alerts import ingest_alert
from server.schemas import IngestResult

_LOGGER = logging.getLogger(__name__)

router = APIRouter(prefix="/ingest", tags=["ingest"], dependencies=[Depends(authorize_ingest)])

_BODY_DOC = {
    "requestBody": {
        "required": True,
        "description": "A JSON array of `gateway.protocol.Alert`, as `gateway.protocol.encode([...])` writes it.",
        "content": {"application/json": {"schema": {"type": "array", "items": {"type": "object"}}}},
    }
}


@router.post("/alerts", openapi_extra=_BODY_DOC)
def ingest_alerts(
    body: RawBodyDep, session: SessionDep, escalation: EscalationDep, dispatcher: DispatcherDep
) -> IngestResult:
    """Store new alerts (or merge them into an open alert of their home and type) and start their
    escalation; replays count as duplicates."""
    # The raw body goes straight to the protocol's msgspec decoder: the wire schema is declared once.
    try:
        alerts = decode_alerts(body)
    except msgspec.MsgspecError as exc:
        _LOGGER.info("ingest refused a malformed batch: %s", exc)
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from None
    accepted = 0
    for alert in alerts:
        if ingest_alert(session=session, alert=alert, escalation=escalation) is not None:
            accepted += 1
    if accepted:
        dispatcher.wake()
    return IngestResult(accepted=accepted, duplicates=len(alerts) - accepted)
