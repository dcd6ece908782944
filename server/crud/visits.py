"""Welfare visits: logging one (through the API or an SMS check-in) and listing them.

Who may log a visit to a home: a responder of the home's community (or of a community their token
covers), or a responder assigned to visit it. Every visit is written with its audit row in one commit;
the audit and the log name fields, home ids and actor keys, never the notes (they may say how a
resident is).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final

from sqlalchemy import exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.crud.audit import record
from server.db.tables import HomeRow, ResponderRow, VisitorAssignmentRow, VisitRow

_LOGGER = logging.getLogger(__name__)

VISIT_CHANNELS: Final = ("api", "sms", "web")
ENTITY: Final = "visits"


def get_home(*, session: Session, home_id: str) -> HomeRow | None:
    """The home `home_id`, or, when no id matches exactly, the one home whose id matches ignoring case."""
    home = session.get(HomeRow, home_id)
    if home is not None:
        return home
    # SMS check-ins are typed on phones: "H0042" for "h0042". Only an unambiguous match counts.
    matches = session.scalars(select(HomeRow).where(func.lower(HomeRow.id) == home_id.lower()).limit(2)).all()
    return matches[0] if len(matches) == 1 else None


def is_assigned(*, session: Session, responder_id: int, home_id: str) -> bool:
    """Whether the responder is an assigned visitor of the home."""
    return bool(
        session.scalar(
            select(
                exists().where(VisitorAssignmentRow.home == home_id, VisitorAssignmentRow.responder_id == responder_id)
            )
        )
    )


def may_visit(*, session: Session, responder_id: int, communities: Collection[str], home: HomeRow) -> bool:
    """Whether a responder covering `communities` may log a visit to `home`."""
    return home.community in communities or is_assigned(session=session, responder_id=responder_id, home_id=home.id)


def by_source(*, session: Session, source_id: str) -> VisitRow | None:
    """The visit an inbound message already logged, if any."""
    return session.scalar(select(VisitRow).where(VisitRow.source_id == source_id))


def log_visit(
    *,
    session: Session,
    home: str,
    responder_id: int | None,
    at: datetime,
    notes: str | None,
    channel: str,
    actor: str,
    source_id: str | None = None,
    now: datetime | None = None,
) -> tuple[VisitRow, bool]:
    """Store a visit and its audit row, committed; `(visit, created)`.

    With `source_id` (the provider's message id), a retried delivery of the same message returns the visit
    it already logged with `created` False, also when two deliveries race (the unique column decides).
    """
    if channel not in VISIT_CHANNELS:
        raise ValueError(f"channel must be one of {VISIT_CHANNELS}, got {channel!r}")
    if source_id is not None and (earlier := by_source(session=session, source_id=source_id)) is not None:
        return earlier, False
    logged_at = now if now is not None else datetime.now(UTC)
    visit = VisitRow(
        home=home,
        responder_id=responder_id,
        at=at,
        notes=notes or None,
        channel=channel,
        logged_at=logged_at,
        logged_by=actor,
        source_id=source_id,
    )
    session.add(visit)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        earlier = by_source(session=session, source_id=source_id) if source_id is not None else None
        if earlier is None:
            raise
        _LOGGER.info("visit %d: a concurrent delivery of the same message logged it first", earlier.id)
        return earlier, False
    fields = ["home", "responder_id", "at", "channel"] + (["notes"] if visit.notes else [])
    if source_id is not None:
        fields.append("source_id")
    record(session=session, actor=actor, action="create", entity=ENTITY, entity_id=visit.id, fields=fields,
           now=logged_at, channel=channel)  # fmt: skip
    session.commit()
    _LOGGER.info("visit %d to home %s logged by %s via %s", visit.id, home, actor, channel)
    return visit, True


def list_visits(
    *,
    session: Session,
    limit: int,
    home: str | None = None,
    responder_id: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    communities: Collection[str] | None = None,
    own_responder_id: int | None = None,
) -> Sequence[VisitRow]:
    """Visits latest first, filtered; with `communities`, only visits to their homes (or by `own_responder_id`)."""
    query = select(VisitRow).order_by(VisitRow.at.desc(), VisitRow.id.desc()).limit(limit)
    if home is not None:
        query = query.where(VisitRow.home == home)
    if responder_id is not None:
        query = query.where(VisitRow.responder_id == responder_id)
    if start is not None:
        query = query.where(VisitRow.at >= start)
    if end is not None:
        query = query.where(VisitRow.at < end)
    if communities is not None:
        in_scope = VisitRow.home.in_(select(HomeRow.id).where(HomeRow.community.in_(sorted(communities))))
        query = query.where(or_(in_scope, VisitRow.responder_id == own_responder_id) if own_responder_id else in_scope)
    return session.scalars(query).all()


class CheckInOutcome(StrEnum):
    """What became of an SMS check-in."""

    LOGGED = "logged"
    REPEATED = "repeated"  # the same message delivered again: its visit was already logged
    UNKNOWN_SENDER = "unknown_sender"  # the number is no registered responder's
    UNKNOWN_HOME = "unknown_home"  # no such home, or none this responder may visit (not told apart)


@dataclass(frozen=True, slots=True)
class CheckIn:
    """The outcome of an SMS check-in and, when one was logged (now or before), the visit."""

    outcome: CheckInOutcome
    visit: VisitRow | None = None


def check_in_by_phone(
    *,
    session: Session,
    phone: str,
    home_text: str,
    notes: str | None,
    channel: str,
    source_id: str | None = None,
    now: datetime | None = None,
) -> CheckIn:
    """Log the visit a responder texted in from `phone` ("VISIT h0042 all well"), as that responder."""
    if source_id is not None and (earlier := by_source(session=session, source_id=source_id)) is not None:
        return CheckIn(CheckInOutcome.REPEATED, earlier)
    responders = session.scalars(
        select(ResponderRow).where(ResponderRow.phone == phone).order_by(ResponderRow.id)
    ).all()
    if not responders:
        return CheckIn(CheckInOutcome.UNKNOWN_SENDER)
    home = get_home(session=session, home_id=home_text)
    if home is None:
        return CheckIn(CheckInOutcome.UNKNOWN_HOME)
    # One phone may be on the lists of two communities: the visit is logged as the one who covers the home.
    responder = next(
        (r for r in responders if may_visit(session=session, responder_id=r.id, communities=(r.community,), home=home)),
        None,
    )
    if responder is None:
        _LOGGER.info("check-in from responder:%d refused: home %s is not theirs", responders[0].id, home.id)
        return CheckIn(CheckInOutcome.UNKNOWN_HOME)
    at = now if now is not None else datetime.now(UTC)
    visit, created = log_visit(
        session=session,
        home=home.id,
        responder_id=responder.id,
        at=at,
        notes=notes,
        channel=channel,
        actor=f"responder:{responder.id}",
        source_id=source_id,
        now=at,
    )
    return CheckIn(CheckInOutcome.LOGGED if created else CheckInOutcome.REPEATED, visit)
