"""Texts people send in, understood the same way whichever provider carried them: alert replies ("1", or
"1 K3F9Q2") and visit check-ins ("VISIT h0042 all well", "探访 h0042 一切正常").

The answer texts never name a resident or an address: only the alert's reference code, or the home code a
visitor checked in with, which the person texting already has.
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
from server.crud.visits import CheckInOutcome, check_in_by_phone
from server.db.tables import NotificationRow
from server.schemas.visits import MAX_NOTES_LENGTH
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


# A check-in: the keyword, the home code, then free notes ("VISIT h0042 all well", "探访h0042, 一切正常").
# Matched after NFKC, so full-width letters, digits, commas and colons are their ASCII selves.
_CHECK_IN = re.compile(
    r"^\s*(?:(?P<en>VISIT)\b|(?P<zh>探访))[\s:]*(?P<home>[^\s,:]+)?[\s,:;、。.-]*(?P<notes>.*?)\s*$",
    re.IGNORECASE | re.DOTALL,
)
MAX_QUOTED_HOME: Final = 64  # home ids are at most 64 characters; a longer "code" is not echoed whole


@dataclass(frozen=True, slots=True)
class CheckInText:
    """A visit check-in as texted: the home code (None when missing), the notes, and the language to answer in."""

    home: str | None
    notes: str | None
    chinese: bool


@dataclass(frozen=True, slots=True)
class _CheckInAnswers:
    logged: str
    unknown_sender: str
    unknown_home: str
    how: str


_CHECK_IN_EN: Final = _CheckInAnswers(
    logged="HomeSafe: visit to {home} logged. Thank you.",
    unknown_sender="HomeSafe: this number is not registered as a visitor, so no visit was logged. "
    "Please contact the service centre.",
    unknown_home="HomeSafe: {home} is not among the homes you visit; no visit was logged. Check the home code.",
    how="HomeSafe: to log a visit, text VISIT, the home code and a note, e.g. VISIT h0042 all well.",
)
_CHECK_IN_ZH: Final = _CheckInAnswers(
    logged="平安守护: 已记录您对 {home} 的探访. 谢谢.",
    unknown_sender="平安守护: 此号码未登记为探访人员, 未记录探访. 请联系服务中心.",
    unknown_home="平安守护: {home} 不在您探访的住户中, 未记录探访. 请核对住户编号.",
    how="平安守护: 记录探访请发送 探访、住户编号和备注, 例如: 探访 h0042 一切正常.",
)


def parse_check_in(text: str) -> CheckInText | None:
    """`CheckInText` for "VISIT h0042 ...", "visit: h0042", "探访 h0042 ..." (any case, full-width); else None."""
    match = _CHECK_IN.match(unicodedata.normalize("NFKC", text))
    if match is None:
        return None
    home = (match.group("home") or "").rstrip(".。") or None
    notes = match.group("notes").strip()[:MAX_NOTES_LENGTH] or None
    return CheckInText(home=home, notes=notes, chinese=match.group("zh") is not None)


def answer_check_in(
    *,
    session: Session,
    phone: str,
    check_in: CheckInText,
    channel: str,
    source_id: str | None = None,
    now: datetime | None = None,
) -> str:
    """Log the visit `phone`'s responder checked in (once per `source_id`), and return the answer to text back."""
    answers = _CHECK_IN_ZH if check_in.chinese else _CHECK_IN_EN
    if check_in.home is None:
        return answers.how
    result = check_in_by_phone(
        session=session,
        phone=phone,
        home_text=check_in.home,
        notes=check_in.notes,
        channel=channel,
        source_id=source_id,
        now=now,
    )
    if result.outcome is CheckInOutcome.UNKNOWN_SENDER:
        _LOGGER.info("visit check-in by %s from an unregistered number: nothing logged", channel)
        return answers.unknown_sender
    if result.outcome is CheckInOutcome.UNKNOWN_HOME or result.visit is None:
        return answers.unknown_home.format(home=check_in.home[:MAX_QUOTED_HOME])
    return answers.logged.format(home=result.visit.home)


def answer_text(
    *,
    session: Session,
    phone: str,
    text: str,
    channel: str,
    source_id: str | None = None,
    now: datetime | None = None,
) -> str:
    """Whatever `phone` texted in: a visit check-in, else an alert reply (as `answer_reply`); the answer to send.

    `source_id` is the provider's id of the inbound message: a redelivery of a check-in logs no second visit.
    """
    check_in = parse_check_in(text)
    if check_in is not None:
        return answer_check_in(
            session=session, phone=phone, check_in=check_in, channel=channel, source_id=source_id, now=now
        )
    return answer_reply(session=session, phone=phone, text=text, channel=channel, now=now)
