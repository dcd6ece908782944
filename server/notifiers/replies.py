"""Replies people text back ("1", or "1 K3F9Q2"): understood the same way whichever provider carried them.

The answer texts never name a resident, a home or an address: only the alert's reference code, which the
person replying already has.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Final

from sqlalchemy import select

from server.crud.lifecycle import LifecycleError, acknowledge_by_phone
from server.db.tables import NotificationRow
from server.texts import REF_ALPHABET, REF_LENGTH

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from server.db.tables import AlertRow

_LOGGER = logging.getLogger(__name__)

ACCEPT_KEY: Final = "1"
_REPLY = re.compile(rf"^{ACCEPT_KEY}([{REF_ALPHABET}]{{{REF_LENGTH}}})?$")
# Crockford base32 reads I and L as 1 and O as 0, so a code typed from memory still matches.
_CROCKFORD: Final = str.maketrans({"I": "1", "L": "1", "O": "0"})

ACCEPTED: Final = "HomeSafe: thank you, you accepted alert {ref}. Please go now."
ALREADY_TAKEN: Final = "HomeSafe: that alert was already accepted or closed. Thank you."
ALREADY_TAKEN_REF: Final = "HomeSafe: alert {ref} was already accepted or closed. Thank you."
NOTHING_OPEN: Final = "HomeSafe: there is no open alert for this number to accept."
NO_SUCH_REF: Final = "HomeSafe: no open alert {ref} for this number. Check the code in the alert SMS."
NOT_UNDERSTOOD: Final = "HomeSafe: reply 1 to accept an alert, or 1 and its code (e.g. 1 K3F9Q2)."


def actor_of(notification: NotificationRow) -> str:
    """Who acknowledges through this notification, as the lifecycle records it: "responder:12", else "phone:+86..."."""
    return notification.recipient or f"phone:{notification.to}"


def taken_by(*, session: Session, alert: AlertRow, phone: str) -> bool:
    """Whether `alert` was acknowledged by whoever `phone` was notified as (and not by someone else first)."""
    recipients = session.scalars(
        select(NotificationRow.recipient).where(NotificationRow.alert_id == alert.id, NotificationRow.to == phone)
    ).all()
    return alert.acknowledged_by in {*(r for r in recipients if r), f"phone:{phone}"}


@dataclass(frozen=True, slots=True)
class Reply:
    """An accept reply, naming one alert by its code or (None) the latest one sent to the phone."""

    ref: str | None


def parse_reply(text: str) -> Reply | None:
    """`Reply` for "1", "1 k3f9q2", or the same in full-width characters (Chinese keyboards); else None."""
    # NFKC folds full-width digits and letters to ASCII; spaces anywhere are ignored.
    folded = "".join(unicodedata.normalize("NFKC", text).split()).upper()
    if not folded.startswith(ACCEPT_KEY):
        return None
    folded = ACCEPT_KEY + folded[len(ACCEPT_KEY) :].translate(_CROCKFORD)
    match = _REPLY.match(folded)
    if match is None:
        return None
    return Reply(ref=match.group(1))


def answer_reply(*, session: Session, phone: str, text: str, channel: str, now: datetime | None = None) -> str:
    """Acknowledge what `text` from `phone` accepts, and return the answer to text back."""
    reply = parse_reply(text)
    if reply is None:
        return NOT_UNDERSTOOD
    try:
        alert = acknowledge_by_phone(session=session, phone=phone, ref=reply.ref, channel=channel, now=now)
    except LifecycleError as exc:
        if exc.status_code == 409:
            return ALREADY_TAKEN_REF.format(ref=reply.ref) if reply.ref else ALREADY_TAKEN
        return NO_SUCH_REF.format(ref=reply.ref) if reply.ref else NOTHING_OPEN
    if alert is None:
        return NO_SUCH_REF.format(ref=reply.ref) if reply.ref else NOTHING_OPEN
    session.commit()
    if not taken_by(session=session, alert=alert, phone=phone):
        # The lifecycle recorded the late "1" in the audit; the alert stays with whoever took it first.
        return ALREADY_TAKEN_REF.format(ref=alert.ref)
    _LOGGER.info("alert %s acknowledged by %s reply", alert.id, channel)
    return ACCEPTED.format(ref=alert.ref)
