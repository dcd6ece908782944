"""Spending a one-time ack link: the link's recipient acknowledges its alert, and the link is used up.

Kept apart from `server/acklinks.py` (making and checking links), which the escalation ladder needs to
put a link in every SMS: spending one reaches the lifecycle, and the lifecycle reaches the ladder.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Final

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.acklinks import ACK_CHANNEL, AckLinkError, check_token, token_digest
from server.crud.lifecycle import LifecycleError, acknowledge
from server.db.tables import AckTokenRow, AlertRow
from server.notifiers.replies import actor_of

_LOGGER = logging.getLogger(__name__)

_LIFECYCLE_PAGES: Final = {
    404: "this alert no longer exists",
    409: "this alert was already accepted or closed; thank you",
}


def redeem(*, session: Session, secret: str, token: str, now: datetime | None = None) -> AlertRow:
    """Spend a link: acknowledge its alert (channel "link", by its recipient) and mark it used. Commits.

    Raises `AckLinkError`: 403 forged, 410 used or expired; 404 alert gone and 409 resolved (the link is
    then left unspent); 409 also when someone else acknowledged first (the link is spent).
    """
    moment = now if now is not None else datetime.now(UTC)
    row = check_token(session=session, secret=secret, token=token, now=moment)
    notification_id, alert_id, actor = row.id, row.alert_id, actor_of(row)
    try:
        # The insert comes first: of two concurrent clicks, the second fails here, before acknowledging.
        session.add(AckTokenRow(digest=token_digest(token), notification_id=notification_id, used_at=moment))
        session.flush()
    except IntegrityError:
        session.rollback()
        raise AckLinkError("this link was already used", status_code=410) from None
    try:
        alert = acknowledge(session=session, alert_id=alert_id, actor=actor, channel=ACK_CHANNEL, now=moment)
    except LifecycleError as exc:
        session.rollback()
        # Our own words, not the lifecycle's: its messages are for operators and may name people.
        message = _LIFECYCLE_PAGES.get(exc.status_code, "this alert cannot be accepted any more")
        raise AckLinkError(message, status_code=exc.status_code) from exc
    session.commit()
    if alert.acknowledged_by != actor:
        # Someone else took it first: the link is spent (the lifecycle audited this late click), and the
        # holder is told rather than sent on their way as well.
        raise AckLinkError(_LIFECYCLE_PAGES[409], status_code=409)
    _LOGGER.info("alert %s acknowledged by ack link of notification %d", alert_id, notification_id)
    return alert
